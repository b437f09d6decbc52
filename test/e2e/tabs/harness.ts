/**
 * Browser harness of the tab-sharing tests (and of the bench's scenario): the test page bundled
 * by esbuild and served on http://127.0.0.1 (a secure context, so Web Locks exist), a protocol
 * server on `/ws`, a plain `ws` server on `/plain`, and counters of upgrades and of sockets open
 * at once (with the time two or more were open).
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { fileURLToPath } from 'node:url'
import * as esbuild from 'esbuild'
import type { BrowserContext, Page } from 'playwright-core'
import { WebSocketServer, type WebSocket } from 'ws'
import { createRealtimeServer, type RealtimeServer } from '../../../src/server'
import { waitFor } from '../../support/wait'

const PAGE = fileURLToPath(new URL('./page.ts', import.meta.url))
const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url))
const HTML = '<!doctype html><meta charset="utf-8"><title>tab</title><script type="module" src="/page.js"></script>'
const OTHER = '<!doctype html><meta charset="utf-8"><title>elsewhere</title><p>elsewhere</p>'
/** Bound of any wait on a page or the server: hand-overs take ms, steals seconds; CI is slow. */
export const TABS_TIMEOUT = 30_000

export interface TabsServer {
  /** http://127.0.0.1:<port>/ */
  url: string
  realtime: RealtimeServer
  /** Upgrade requests so far. */
  upgrades: number
  /** Sockets open now, and the most ever open at once. */
  open: number
  maxOpen: number
  /** Total ms during which two or more sockets were open. */
  overlapMs: number
  /** Every text frame the plain server received. */
  plainReceived: string[]
  /** The path of every HTTP request, in order. */
  requests: string[]
  /** The path of the chunk made from the module `name` (e.g. `'connect'`, the tab-sharing chunk). */
  chunk(name: string): string | undefined
  broadcastPlain(data: string): void
  /** Resolves once exactly `n` sockets are open. */
  waitForOpen(n: number, timeout?: number): Promise<void>
  close(): Promise<void>
}

const bundles = new Map<string, Promise<Map<string, string>>>()
/**
 * The page and the worker, bundled together with code splitting as an app's bundler does:
 * `/page.js`, `/worker.js` and their chunks, among them the tab-sharing chunk that
 * `shareAcrossTabs: true` loads on first use with a dynamic `import()`.
 */
function scripts(page: string, worker: string): Promise<Map<string, string>> {
  const key = `${page}\n${worker}`
  let bundle = bundles.get(key)
  if (!bundle) {
    bundle = esbuild
      .build({
        entryPoints: { page, worker },
        bundle: true,
        splitting: true,
        outdir: '/tabs',
        format: 'esm',
        platform: 'browser',
        target: 'es2022',
        write: false,
        logLevel: 'silent',
        define: { 'process.env.NODE_ENV': '"development"' },
      })
      .then((out) => new Map(out.outputFiles.map((file) => [file.path.slice('/tabs'.length), file.text])))
    bundles.set(key, bundle)
  }
  return bundle
}

/** @param page the page script's path (the bench, bundled elsewhere, passes it), and the worker's. */
export async function startTabsServer(page = PAGE, worker = WORKER): Promise<TabsServer> {
  const files = await scripts(page, worker)
  const realtime = createRealtimeServer({ noServer: true, presence: false, rateLimit: false })
  await realtime.ready
  const plain = new WebSocketServer({ noServer: true })
  const plainClients = new Set<WebSocket>()
  const waiters = new Set<() => void>()
  let overlapSince: number | null = null

  const counters = { upgrades: 0, open: 0, maxOpen: 0, overlapMs: 0 }
  const opened = (): void => {
    counters.open++
    counters.maxOpen = Math.max(counters.maxOpen, counters.open)
    if (counters.open === 2) overlapSince = performance.now()
    for (const wake of waiters) wake()
  }
  const closed = (): void => {
    counters.open--
    if (counters.open === 1 && overlapSince !== null) {
      counters.overlapMs += performance.now() - overlapSince
      overlapSince = null
    }
    for (const wake of waiters) wake()
  }
  realtime.on('connection', opened)
  realtime.on('disconnect', closed)
  const plainReceived: string[] = []
  plain.on('connection', (socket) => {
    plainClients.add(socket)
    opened()
    socket.on('message', (data) => plainReceived.push(String(data)))
    socket.on('close', () => {
      plainClients.delete(socket)
      closed()
    })
  })

  const requests: string[] = []
  const http: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname
    requests.push(path)
    const script = files.get(path)
    const [type, body] = script !== undefined ? ['text/javascript', script] : path === '/other' ? ['text/html', OTHER] : ['text/html', HTML]
    res.writeHead(200, { 'content-type': `${type}; charset=utf-8` })
    res.end(body)
  })
  const sockets = new Set<Socket>()
  http.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  http.on('upgrade', (req, socket, head) => {
    counters.upgrades++
    if (req.url?.startsWith('/ws')) return realtime.handleUpgrade(req, socket, head)
    plain.handleUpgrade(req, socket, head, (ws) => plain.emit('connection', ws, req))
  })
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  const { port } = http.address() as AddressInfo

  return {
    url: `http://127.0.0.1:${port}/`,
    realtime,
    get upgrades() {
      return counters.upgrades
    },
    get open() {
      return counters.open
    },
    get maxOpen() {
      return counters.maxOpen
    },
    get overlapMs() {
      return counters.overlapMs + (overlapSince === null ? 0 : performance.now() - overlapSince)
    },
    plainReceived,
    requests,
    chunk: (name) => [...files.keys()].find((path) => path.startsWith(`/${name}-`)),
    broadcastPlain(data) {
      for (const socket of plainClients) socket.send(data)
    },
    waitForOpen(n, timeout = TABS_TIMEOUT) {
      return new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (counters.open !== n) return
          cleanup()
          resolve()
        }
        const timer = setTimeout(() => {
          cleanup()
          reject(new Error(`waitForOpen: expected ${n} open socket(s) within ${timeout} ms, have ${counters.open}`))
        }, timeout)
        const cleanup = (): void => {
          clearTimeout(timer)
          waiters.delete(check)
        }
        waiters.add(check)
        check()
      })
    },
    async close() {
      for (const socket of plainClients) socket.terminate()
      plain.close()
      await realtime.close({ timeout: 500 })
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => http.close(() => resolve()))
    },
  }
}

/** What a page's `window.tab` reports. */
export interface TabInfo {
  role: 'leader' | 'follower' | 'solo'
  status: string
  uncertain: number
}

/** Opens the test page in `context` and waits until its connection is open. */
export async function openTab(context: BrowserContext, server: TabsServer, query = 'mode=plain'): Promise<Page> {
  const page = await context.newPage()
  page.setDefaultTimeout(TABS_TIMEOUT)
  await page.goto(`${server.url}?${query}`)
  await waitForInfo(page, (info) => info.status === 'open')
  return page
}

/** Waits until the page's connection info satisfies `predicate` (evaluated in the page). */
export async function waitForInfo(page: Page, predicate: (info: TabInfo) => boolean, timeout = TABS_TIMEOUT): Promise<void> {
  await page.waitForFunction(
    (source) => {
      const tab = (window as unknown as { tab?: { info(): TabInfo } }).tab
      return !!tab && (0, eval)(source)(tab.info())
    },
    predicate.toString(),
    { timeout, polling: 'raf' },
  )
}

export function info(page: Page): Promise<TabInfo> {
  return page.evaluate(() => (window as unknown as { tab: { info(): TabInfo } }).tab.info())
}

/** The page that leads (exactly one must). */
export async function leaderOf(pages: readonly Page[]): Promise<Page> {
  const roles = await Promise.all(pages.map((page) => info(page).then((i) => i.role)))
  const leaders = pages.filter((_, i) => roles[i] === 'leader')
  if (leaders.length !== 1) throw new Error(`expected one leader, roles are ${roles.join(', ')}`)
  return leaders[0]
}

/** Waits until exactly one of `pages` leads and every other follows; returns the leader. */
export async function waitForOneLeader(pages: readonly Page[], timeout = TABS_TIMEOUT): Promise<Page> {
  let last: TabInfo[] = []
  try {
    return await waitFor(
      async () => {
        const infos = (last = await Promise.all(pages.map((page) => info(page))))
        const open = infos.every((i) => i.status === 'open' && (i.role === 'leader' || i.role === 'follower'))
        return open && infos.filter((i) => i.role === 'leader').length === 1 ? pages[infos.findIndex((i) => i.role === 'leader')] : undefined
      },
      { timeout, interval: 20, message: `one open leader among ${pages.length} pages` },
    )
  } catch (error) {
    throw new Error(`${(error as Error).message}; the pages say ${JSON.stringify(last)}`)
  }
}

export function seqs(page: Page): Promise<number[]> {
  return page.evaluate(() => (window as unknown as { tab: { state: { seqs: number[] } } }).tab.state.seqs)
}

export function messages(page: Page): Promise<unknown[]> {
  return page.evaluate(() => (window as unknown as { tab: { state: { messages: unknown[] } } }).tab.state.messages)
}

/** Publishes `{ n }` to the topic `stream` every `everyMs` ms, in order; `stop()` resolves with the last seq. */
export function startStream(server: TabsServer, everyMs = 10): { stop(): Promise<number> } {
  let chain: Promise<number> = Promise.resolve(0)
  let n = 0
  const timer = setInterval(() => {
    n++
    chain = chain.then(() => server.realtime.publish('stream', { n }).then((m) => m.seq ?? 0))
  }, everyMs)
  return {
    stop() {
      clearInterval(timer)
      return chain
    },
  }
}

/** Waits until the page has seen the seq `last` of `stream`; a timeout says where the page stands. */
export async function waitForSeq(page: Page, last: number, timeout = TABS_TIMEOUT): Promise<void> {
  try {
    await page.waitForFunction((last) => (window as unknown as { tab: { state: { seqs: number[] } } }).tab.state.seqs.includes(last), last, { timeout, polling: 'raf' })
  } catch (error) {
    const events = await page.evaluate(() => (window as unknown as { tab: { state: { events: Array<{ what: string }> } } }).tab.state.events.filter((e) => e.what !== 'seq').slice(-12))
    throw new Error(`${(error as Error).message}\nwaiting for seq ${last}; the page is ${JSON.stringify(await info(page))}, saw ${JSON.stringify((await seqs(page)).slice(-5))}, last events ${JSON.stringify(events)}`)
  }
}

/** Waits until the page has seen `count` more seqs than it had. */
export async function waitForMoreSeqs(page: Page, count: number, timeout = TABS_TIMEOUT): Promise<void> {
  const had = (await seqs(page)).length
  await page.waitForFunction((want) => (window as unknown as { tab: { state: { seqs: number[] } } }).tab.state.seqs.length >= want, had + count, { timeout, polling: 'raf' })
}

/** Gaps and repeats in a list of seqs that must be consecutive. */
export function defects(list: readonly number[]): { missing: number[]; repeated: number[] } {
  const missing: number[] = []
  const repeated: number[] = []
  for (let i = 1; i < list.length; i++) {
    if (list[i] <= list[i - 1]) repeated.push(list[i])
    else for (let s = list[i - 1] + 1; s < list[i]; s++) missing.push(s)
  }
  return { missing, repeated }
}
