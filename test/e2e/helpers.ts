/**
 * E2E harness: the demo site built once into a temp dir, served by a tiny static server that
 * proxies `/ws` to the chat server (as Vite does in `npm run demo`), and headless Chromium.
 */
import { createReadStream } from 'node:fs'
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import { connect, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { extname, join, normalize } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { build } from 'vite'
import { startChatServer, type ChatServer } from '../../demo/server'

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))
export const ARTIFACTS = join(ROOT, 'test-results/e2e')
/** Generous bound for anything the UI waits on (reconnects back off; CI machines are slow). */
export const UI_TIMEOUT = 20_000

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
]

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `vue-realtime-e2e-${prefix}-`))
}

/** Builds the demo site (production mode) into a fresh temp dir. */
export async function buildSite(): Promise<string> {
  const outDir = await tempDir('site')
  await build({
    configFile: join(ROOT, 'demo/vite.config.ts'),
    root: join(ROOT, 'demo'),
    logLevel: 'warn',
    mode: 'production',
    build: { outDir, emptyOutDir: true, sourcemap: false },
  })
  return outDir
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
}

export interface SiteServer {
  url: string
  close(): Promise<void>
}

/**
 * Serves `dir` on 127.0.0.1 (port 0) with an SPA fallback, and pipes WebSocket upgrades of
 * `/ws` to `chatPort()` byte for byte, so the chat server can restart behind a stable origin.
 */
export async function serveSite(dir: string, chatPort: () => number): Promise<SiteServer> {
  const server: Server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '')
    let file = join(dir, path)
    try {
      if (!(await stat(file)).isFile()) throw new Error('not a file')
    } catch {
      file = join(dir, 'index.html')
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' })
    createReadStream(file).pipe(res)
  })
  const sockets = new Set<import('node:net').Socket>()
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  server.on('upgrade', (req, socket, head) => {
    socket.on('error', () => socket.destroy())
    if (!req.url?.startsWith('/ws')) return socket.destroy()
    const upstream = connect(chatPort(), '127.0.0.1', () => {
      const lines = [`${req.method} ${req.url} HTTP/${req.httpVersion}`]
      for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`)
      upstream.write(lines.join('\r\n') + '\r\n\r\n')
      if (head.length) upstream.write(head)
      upstream.pipe(socket)
      socket.pipe(upstream)
    })
    upstream.on('error', () => socket.destroy())
    upstream.on('close', () => socket.destroy())
    socket.on('close', () => upstream.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  }
}

/** The chat server on `port` (0 = any free one) with history in `dataDir`. */
export function startChat(dataDir: string, port = 0): Promise<ChatServer> {
  return startChatServer({ host: '127.0.0.1', port, dataDir })
}

/**
 * Headless Chromium. `backForwardCache: true` keeps the back/forward cache on (playwright turns
 * it off by default), for tests of pages that go into it.
 */
export function launchBrowser({ backForwardCache = false }: { backForwardCache?: boolean } = {}): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
    timeout: 30_000,
    ...(backForwardCache ? { ignoreDefaultArgs: ['--disable-back-forward-cache'] } : {}),
  })
}

export interface ChatPage {
  context: BrowserContext
  page: Page
  /** Uncaught exceptions of the page: a test fails if any. */
  errors: Error[]
}

export async function openPage(browser: Browser, site: SiteServer, viewport = { width: 1200, height: 760 }): Promise<ChatPage> {
  const context = await browser.newContext({ viewport, reducedMotion: 'reduce', colorScheme: 'light' })
  context.setDefaultTimeout(UI_TIMEOUT)
  const page = await context.newPage()
  const errors: Error[] = []
  page.on('pageerror', (error) => errors.push(error))
  await page.goto(site.url)
  return { context, page, errors }
}

/** Fills the join form and waits until connected. */
export async function joinChat(page: Page, name: string, room: string): Promise<void> {
  await page.getByTestId('join-name').fill(name)
  await page.getByTestId('join-room').fill(room)
  await page.getByTestId('join-submit').click()
  await waitForStatus(page, 'Connected')
}

export async function waitForStatus(page: Page, text: string): Promise<void> {
  await page.waitForFunction(
    (expected) => document.querySelector('[data-testid="connection-status"]')?.textContent?.trim() === expected,
    text,
    { timeout: UI_TIMEOUT },
  )
}

/** Types into the composer and presses Enter. */
export async function say(page: Page, text: string): Promise<void> {
  const input = page.getByTestId('composer-input')
  await input.fill(text)
  await input.press('Enter')
}

/** The text of every `message` item, in order. */
export function messageTexts(page: Page): Promise<string[]> {
  return page.$$eval('[data-testid="message"] .text', (nodes) => nodes.map((n) => n.textContent ?? ''))
}

/** Waits until the page shows exactly `expected` messages, in order. */
export async function waitForMessages(page: Page, expected: string[]): Promise<void> {
  await page.waitForFunction(
    (want) => {
      const got = [...document.querySelectorAll('[data-testid="message"] .text')].map((n) => n.textContent ?? '')
      return got.length === want.length && got.every((text, i) => text === want[i])
    },
    expected,
    { timeout: UI_TIMEOUT },
  ).catch(async (error: Error) => {
    throw new Error(`${error.message}\nexpected ${JSON.stringify(expected)}\n     got ${JSON.stringify(await messageTexts(page))}`)
  })
}

/** Waits until every delivery mark of this page's own messages reads `label` (e.g. "Delivered"). */
export async function waitForDelivery(page: Page, label: string, count: number): Promise<void> {
  await page.waitForFunction(
    ({ label, count }) => {
      const marks = [...document.querySelectorAll('[data-testid="message-status"]')].map((n) => n.textContent?.trim() ?? '')
      return marks.length === count && marks.every((m) => m.endsWith(label))
    },
    { label, count },
    { timeout: UI_TIMEOUT },
  )
}

export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(ARTIFACTS, { recursive: true })
  const path = join(ARTIFACTS, `${name}.png`)
  await page.screenshot({ path })
  return path
}

export async function removeDir(dir: string | undefined): Promise<void> {
  if (dir) await rm(dir, { recursive: true, force: true })
}
