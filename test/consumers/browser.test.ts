/**
 * The packed library in Debian's Chromium, the way users run it: the consumer app under
 * `vite dev` (development: the dev guard `process.env.NODE_ENV !== 'production'` is replaced by
 * Vite, so the conflicting-options warning prints and the devtools plugin registers with the
 * devtools hook), the README's Quick start running against a loopback ticker (it resubscribes
 * after a reconnect), and a production build of the same app (neither the warning nor the
 * devtools code is in its JavaScript, and neither happens in the page).
 */
import { readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { createServer, preview, type PreviewServer, type ViteDevServer, type Plugin } from 'vite'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocketServer, type WebSocket } from 'ws'
import { launchBrowser } from '../e2e/helpers'
import { once, waitFor } from '../support/wait'
import { run } from './exec'
import { APP, INSTALLED, ROOT, TMP } from './paths'

/** Generous bound for anything the page waits on (a busy 2-core machine). */
const UI_TIMEOUT = 20_000
const CONFLICT_WARNING = 'is already open with other reconnect options'
/** What a stub devtools hook records (installed before any script of the page runs). */
interface HookLog {
  setups: string[]
  layers: string[]
  timeline: { layerId: string; title: string; subtitle: string }[]
}

/** A stub of the Vue Devtools' global hook: records plugin setups and timeline calls. */
function installDevtoolsHook(): void {
  const log: HookLog = { setups: [], layers: [], timeline: [] }
  const listeners = new Map<string, ((...args: unknown[]) => void)[]>()
  const api = {
    addTimelineLayer: (layer: { id: string }) => log.layers.push(layer.id),
    addTimelineEvent: (options: { layerId: string; event: { title: string; subtitle: string } }) =>
      log.timeline.push({ layerId: options.layerId, title: options.event.title, subtitle: options.event.subtitle }),
    on: {},
    notifyComponentUpdate: () => {},
    addInspector: () => {},
    sendInspectorTree: () => {},
    sendInspectorState: () => {},
  }
  ;(window as unknown as Record<string, unknown>).__hookLog = log
  const on = (event: string, listener: (...args: unknown[]) => void): void => {
    listeners.set(event, [...(listeners.get(event) ?? []), listener])
  }
  ;(window as unknown as Record<string, unknown>).__VUE_DEVTOOLS_GLOBAL_HOOK__ = {
    enabled: true,
    apps: [],
    emit(event: string, ...args: unknown[]) {
      if (event === 'devtools-plugin:setup') {
        const [descriptor, setup] = args as [{ id: string }, (api: unknown) => void]
        log.setups.push(descriptor.id)
        if (typeof setup === 'function') setup(api)
      }
      for (const listener of listeners.get(event) ?? []) listener(...args)
    },
    on,
    once: on,
    off() {},
  }
}

/** A loopback ticker: after `{ subscribe }` on a socket, sends that socket a tick every 50 ms. */
async function startTicker() {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  await once(wss, 'listening')
  const sockets: WebSocket[] = []
  const subscribes: number[] = [] // index of the socket each subscribe arrived on
  wss.on('connection', (socket) => {
    const index = sockets.push(socket) - 1
    let timer: NodeJS.Timeout | undefined
    socket.on('message', (raw) => {
      const text = String(raw)
      if (!text.startsWith('{')) return // heartbeat pings
      const { subscribe } = JSON.parse(text) as { subscribe?: string }
      if (!subscribe) return
      subscribes.push(index)
      let price = 1
      timer ??= setInterval(() => socket.send(JSON.stringify({ symbol: subscribe, price: price++ })), 50)
    })
    socket.on('close', () => clearInterval(timer))
  })
  const { port } = wss.address() as { port: number }
  return {
    url: `ws://127.0.0.1:${port}/ws`,
    sockets,
    subscribes,
    close: async () => {
      for (const socket of wss.clients) socket.terminate()
      await new Promise<void>((resolve) => wss.close(() => resolve()))
    },
  }
}

interface Console {
  warnings: string[]
  errors: string[]
}

async function open(browser: Browser, url: string): Promise<{ page: Page; console: Console; close: () => Promise<void> }> {
  const context = await browser.newContext()
  context.setDefaultTimeout(UI_TIMEOUT)
  await context.addInitScript(installDevtoolsHook)
  const page = await context.newPage()
  const log: Console = { warnings: [], errors: [] }
  page.on('console', (message) => {
    if (message.type() === 'warning') log.warnings.push(message.text())
    if (message.type() === 'error') log.errors.push(message.text())
  })
  page.on('pageerror', (error) => log.errors.push(String(error)))
  await page.goto(url)
  return { page, console: log, close: () => context.close() }
}

/** Waits for `selector` to show `text`; on timeout the error shows the page's body and console. */
async function waitForText(page: Page, selector: string, text: string, log: Console): Promise<void> {
  try {
    await page.locator(selector, { hasText: text }).waitFor({ timeout: UI_TIMEOUT })
  } catch (error) {
    const body = await page.evaluate(() => document.body.innerHTML).catch(() => '<no page>')
    throw new Error(`${selector} never showed "${text}". Body: ${body.slice(0, 2_000)}\nConsole: ${JSON.stringify(log)}`, { cause: error })
  }
}

const hookLog = (page: Page): Promise<HookLog> => page.evaluate(() => (window as unknown as { __hookLog: HookLog }).__hookLog)

let browser: Browser
let ticker: Awaited<ReturnType<typeof startTicker>>

beforeAll(async () => {
  ticker = await startTicker()
  browser = await launchBrowser()
})

afterAll(async () => {
  await browser?.close()
  await ticker?.close()
})

describe('vite dev (development)', () => {
  let server: ViteDevServer

  beforeAll(async () => {
    // The Quick start as the README writes it, with its example.com URL pointed at the loopback ticker.
    const loopback: Plugin = {
      name: 'readme-loopback',
      transform: (code, id) => (id.includes('/src/readme/') ? code.replaceAll('wss://example.com/ws', ticker.url) : undefined),
    }
    await writeFile(
      join(APP, 'src/readme/quick-start/index.html'),
      '<!doctype html>\n<link rel="icon" href="data:," />\n<div id="app"></div>\n<script type="module" src="./main.ts"></script>\n',
    )
    server = await createServer({
      root: APP,
      configFile: join(APP, 'vite.config.ts'),
      logLevel: 'warn',
      clearScreen: false,
      plugins: [loopback],
      server: { host: '127.0.0.1', port: 0, strictPort: false },
    })
    await server.listen()
  })

  afterAll(async () => {
    await server?.close()
  })

  const origin = (): string => server.resolvedUrls!.local[0]!.replace(/\/$/, '')

  it('prints the conflicting-options warning and registers the devtools plugin with the hook', async () => {
    const { page, console, close } = await open(browser, `${origin()}/?ws=${encodeURIComponent(`${ticker.url}?app`)}`)
    try {
      await waitForText(page, '#status', 'open', console)
      await waitFor(() => console.warnings.some((w) => w.includes(CONFLICT_WARNING)), { timeout: UI_TIMEOUT, message: 'the conflicting-options warning' })
      expect(console.warnings.find((w) => w.includes(CONFLICT_WARNING))).toMatch(/^\[vue-realtime\] ws:\/\/127\.0\.0\.1:\d+\/ws\?app is already open/)

      const log = await hookLog(page)
      expect(log.setups).toContain('vue-realtime')
      expect(log.layers).toContain('vue-realtime')
      expect(log.timeline.some((e) => e.layerId === 'vue-realtime' && e.title === 'status')).toBe(true)
      expect(await page.locator('#store').textContent()).toBe('open / 1')
      expect(console.errors).toEqual([])
    } finally {
      await close()
    }
  })

  it('serves the packed library, not the sources', async () => {
    const resolved = await server.pluginContainer.resolveId('vue-realtime', join(APP, 'src/main.ts'))
    // Vite pre-bundles it, from the tarball's dist (the optimizer's metadata names the source).
    expect(resolved?.id).toContain('/node_modules/.vite/deps/vue-realtime.js')
    // After a page loaded them (the previous test), the optimizer's metadata names their source.
    const metadata = server.environments.client.depsOptimizer?.metadata
    expect(metadata?.optimized['vue-realtime']?.src).toBe(join(INSTALLED, 'dist/index.js'))
    expect(metadata?.optimized['vue-realtime/pinia']?.src).toBe(join(INSTALLED, 'dist/pinia/index.js'))
  })

  it("runs the README's Quick start: two tickers, one socket, subscribed again after a reconnect", async () => {
    const before = ticker.sockets.length
    const { page, console, close } = await open(browser, `${origin()}/src/readme/quick-start/index.html`)
    try {
      const ticks = page.locator('li')
      await waitFor(async () => (await ticks.count()) >= 4, { timeout: UI_TIMEOUT, message: 'ticks on the page' })
      expect(ticker.sockets.length - before, 'two tickers share one socket').toBe(1)
      const first = ticker.sockets.length - 1
      // Each ticker subscribed on open.
      await waitFor(() => ticker.subscribes.filter((i) => i === first).length === 2, { timeout: UI_TIMEOUT, message: 'two subscribes on the first socket' })

      // The server drops the link: the client reconnects and both tickers subscribe again.
      ticker.sockets[first]!.terminate()
      await waitFor(() => ticker.sockets.length - before === 2, { timeout: UI_TIMEOUT, message: 'a new socket after the drop' })
      const second = ticker.sockets.length - 1
      await waitFor(() => ticker.subscribes.filter((i) => i === second).length === 2, { timeout: UI_TIMEOUT, message: 'subscribed again on the new socket' })
      const afterReconnect = await ticks.count()
      await waitFor(async () => (await ticks.count()) >= afterReconnect + 4, { timeout: UI_TIMEOUT, message: 'ticks flow again after the reconnect' })
      expect(console.errors).toEqual([])
    } finally {
      await close()
    }
  })
})

describe('vite build (production)', () => {
  let outDir: string
  let server: PreviewServer

  beforeAll(async () => {
    outDir = join(TMP, 'app-dist')
    // As a user runs it: `vite build` in the app, without the test runner's NODE_ENV=test.
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => name !== 'NODE_ENV' && !name.startsWith('VITEST')))
    await run(process.execPath, [join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'], { cwd: APP, env })
    server = await preview({
      root: APP,
      configFile: join(APP, 'vite.config.ts'),
      logLevel: 'warn',
      build: { outDir },
      preview: { host: '127.0.0.1', port: 0, strictPort: false },
    })
  })

  afterAll(async () => {
    await new Promise<void>((resolve) => server?.httpServer.close(() => resolve()))
    await rm(outDir, { recursive: true, force: true })
  })

  it('leaves the warning and the devtools code out of the built JavaScript', async () => {
    const assets = join(outDir, 'assets')
    const js = (await readdir(assets)).filter((f) => f.endsWith('.js'))
    expect(js.length).toBeGreaterThan(0)
    const code = (await Promise.all(js.map((f) => readFile(join(assets, f), 'utf8')))).join('\n')
    // The library is in the bundle (a production message of normalizeUrl)...
    expect(code.includes('invalid WebSocket URL'), 'the library is in the bundle').toBe(true)
    // ...without its development-only parts.
    const found = ['is already open with other', 'devtools-plugin:setup', '[vue-realtime]', '[Vue warn]'].filter((text) => code.includes(text))
    expect(found, 'development-only text in the production JavaScript').toEqual([])
  })

  it('neither warns nor registers with the devtools hook in the page', async () => {
    const origin = server.resolvedUrls!.local[0]!.replace(/\/$/, '')
    const { page, console, close } = await open(browser, `${origin}/?ws=${encodeURIComponent(`${ticker.url}?prod`)}`)
    try {
      await waitForText(page, '#status', 'open', console)
      const log = await hookLog(page)
      expect(log.setups).not.toContain('vue-realtime')
      expect(console.warnings.filter((w) => w.includes('vue-realtime'))).toEqual([])
      expect(console.errors).toEqual([])
    } finally {
      await close()
    }
  })
})
