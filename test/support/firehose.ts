/**
 * The browser firehose harness shared by the e2e test (test/e2e/firehose.e2e.test.ts) and the
 * bench (scenario j, which bundles this file as it bundles the fault proxy): the page of
 * firehosePage.ts bundled for the browser, served on 127.0.0.1 with a WebSocket endpoint that
 * streams ~100-byte JSON messages at a set rate or in one burst.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import * as esbuild from 'esbuild'
import { WebSocketServer, type WebSocket } from 'ws'

/**
 * The page, bundled with Vue (production build), VueUse and vue-realtime from `src/`.
 * @param root the project's root (the bench passes it: its bundled copy of this file lives elsewhere)
 */
export async function buildFirehosePage(root = fileURLToPath(new URL('../..', import.meta.url))): Promise<string> {
  const ROOT = root.endsWith('/') ? root : `${root}/`
  const out = await esbuild.build({
    entryPoints: [`${ROOT}test/support/firehosePage.ts`],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    alias: { 'vue-realtime': `${ROOT}src/index.ts` },
    define: { 'process.env.NODE_ENV': '"production"', __VUE_OPTIONS_API__: 'false', __VUE_PROD_DEVTOOLS__: 'false', __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: 'false' },
    logLevel: 'silent',
  })
  return out.outputFiles[0]!.text
}

export interface FirehoseServer {
  /** `http://127.0.0.1:<port>`. */
  origin: string
  port: number
  /** The page for `consumer` (`vue-realtime`, `raw-raf`, `vueuse`), on `host` (127.0.0.1 or localhost). */
  pageUrl(consumer: string, query?: Record<string, string>, host?: string): string
  /** A page on 127.0.0.1 that embeds `inner` in a `display: none` iframe (cross-origin if `inner` is on localhost). */
  hiddenFrameUrl(inner: string): string
  /** Open WebSocket clients. */
  readonly clients: number
  /** Sends `rate` messages/s to every client for `seconds`; resolves with what was sent, epoch ms. */
  stream(rate: number, seconds: number): Promise<{ sent: number; startedAt: number; endedAt: number }>
  /** Sends `count` messages to every client at once, in one synchronous loop. */
  burst(count: number): void
  close(): Promise<void>
}

const PAYLOAD = 'abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz'
/** Epoch ms with sub-ms resolution (the page reports frames on the same clock). */
const now = (): number => performance.timeOrigin + performance.now()
/** How often the stream sends what is due. */
const STREAM_TICK_MS = 5

export async function startFirehoseServer(script: string): Promise<FirehoseServer> {
  const html = '<!doctype html><meta charset="utf-8"><title>firehose</title><div id="app"></div><script type="module" src="/app.js"></script>'
  let port = 0
  const http: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname
    if (path === '/app.js') return res.writeHead(200, { 'content-type': 'text/javascript', 'cache-control': 'no-store' }).end(script)
    if (path === '/hidden-frame') {
      const inner = new URL(req.url ?? '/', 'http://x').searchParams.get('inner') ?? ''
      return res.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><iframe src="${inner.replace(/"/g, '&quot;')}" style="display:none"></iframe>`)
    }
    res.writeHead(200, { 'content-type': 'text/html', 'cache-control': 'no-store' }).end(html)
  })
  const wss = new WebSocketServer({ server: http, path: '/ws' })
  const sockets = new Set<WebSocket>()
  wss.on('connection', (ws) => {
    sockets.add(ws)
    ws.on('close', () => sockets.delete(ws))
    ws.on('error', () => {})
    ws.on('message', (data) => data.toString() === 'ping' && ws.send('pong'))
  })
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  port = (http.address() as AddressInfo).port
  let seq = 0
  const send = (): void => {
    seq++
    const text = `{"seq":${seq},"payload":"${PAYLOAD.slice(0, 70 - String(seq).length)}"}`
    for (const ws of sockets) ws.send(text)
  }

  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    pageUrl(consumer, query = {}, host = '127.0.0.1') {
      const params = new URLSearchParams({ consumer, ws: `ws://${host}:${port}/ws`, ...query })
      return `http://${host}:${port}/?${params}`
    },
    hiddenFrameUrl(inner) {
      return `http://127.0.0.1:${port}/hidden-frame?${new URLSearchParams({ inner })}`
    },
    get clients() {
      return sockets.size
    },
    stream(rate, seconds) {
      return new Promise((resolve) => {
        const startedAt = now()
        const total = Math.round(rate * seconds)
        let sent = 0
        const timer = setInterval(() => {
          const due = Math.min(total, Math.floor(((now() - startedAt) / 1000) * rate))
          for (; sent < due; sent++) send()
          if (sent >= total) {
            clearInterval(timer)
            resolve({ sent, startedAt, endedAt: now() })
          }
        }, STREAM_TICK_MS)
      })
    },
    burst(count) {
      for (let i = 0; i < count; i++) send()
    },
    async close() {
      for (const ws of sockets) ws.terminate()
      await new Promise<void>((resolve) => wss.close(() => resolve()))
      await new Promise<void>((resolve) => http.close(() => resolve()))
    },
  }
}
