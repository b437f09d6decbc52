// @vitest-environment happy-dom
/**
 * A token in the URL (`?token=`) or in the `token` option never shows in what the client
 * reports: error messages, `state.error`, warnings, what a `console.error(info)` of an error
 * event prints, close info, or the composables' refs. Every path runs with the marker token.
 */
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net'
import { inspect } from 'node:util'
import { mount } from '@vue/test-utils'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { defineComponent, h } from 'vue'
import { WebSocket, WebSocketServer } from 'ws'
import { Connection, normalizeUrl, type ConnectionOptions, type RealtimeErrorInfo, type WebSocketConstructor } from '../../src/core'
import { createRealtimeServer, type RealtimeServer } from '../../src/server'
import { createRealtime } from '../../src/vue/plugin'
import { useChannel, type UseChannelReturn } from '../../src/vue/useChannel'
import { captureOutput, expectNoSecret, SECRET } from '../support/secret'
import { once, waitFor } from '../support/wait'

const NodeWebSocket = WebSocket as unknown as WebSocketConstructor
const cleanups: Array<() => unknown> = []
let output: ReturnType<typeof captureOutput>
const errors: RealtimeErrorInfo[] = []

beforeEach(() => {
  output = captureOutput()
  errors.length = 0
})

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  const printed = output.restore()
  expectNoSecret({
    printed,
    messages: errors.map((e) => e.message),
    // What `console.error(info)` prints of an error event, cause included.
    logged: errors.map((e) => inspect(e)),
  })
})

/** A connection that records its errors and is disposed after the test. */
function watched(url: string, options: ConnectionOptions = {}): Connection {
  const connection = new Connection(url, { WebSocket: NodeWebSocket, heartbeat: false, reconnect: false, ...options })
  connection.on('error', (e) => errors.push(e))
  cleanups.push(() => connection.dispose())
  return connection
}

/** A loopback TCP server that accepts and never answers (a stuck handshake or a silent peer). */
async function silentTcp(): Promise<number> {
  const sockets = new Set<Socket>()
  const server: TcpServer = createTcpServer((s) => sockets.add(s.on('error', () => {})))
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  cleanups.push(() => {
    for (const s of sockets) s.destroy()
    return new Promise<void>((r) => server.close(() => r()))
  })
  return (server.address() as { port: number }).port
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createTcpServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  await new Promise<void>((r) => server.close(() => r()))
  return port
}

/** A plain `ws` server that sends `frame` to every client. */
async function sender(frame: string): Promise<string> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  await once(wss, 'listening')
  wss.on('connection', (ws) => ws.send(frame))
  cleanups.push(() => {
    for (const ws of wss.clients) ws.terminate()
    return new Promise<void>((r) => wss.close(() => r()))
  })
  return `ws://127.0.0.1:${(wss.address() as { port: number }).port}/`
}

describe('client errors with a token in the URL', () => {
  it('refused TCP connection (socket error)', async () => {
    const c = watched(`ws://127.0.0.1:${await closedPort()}/ws?token=${SECRET}`)
    c.open()
    await waitFor(() => c.status === 'failed')
    expect(errors.map((e) => e.kind)).toContain('socket')
    expectNoSecret({ state: { error: c.state.error?.message, lastClose: c.state.lastClose } })
  })

  it('connect timeout and heartbeat timeout', async () => {
    const port = await silentTcp()
    const c = watched(`ws://127.0.0.1:${port}/?access_token=${SECRET}`, { connectTimeout: 100 })
    c.open()
    await waitFor(() => errors.some((e) => e.kind === 'connect-timeout'))
    const url = await sender('hello')
    const h = watched(`${url}?token=${SECRET}`, { heartbeat: { interval: 50, timeout: 50 } })
    h.open()
    await waitFor(() => errors.some((e) => e.kind === 'heartbeat-timeout'), { timeout: 10_000 })
  })

  it('decode errors and dropped messages', async () => {
    const url = await sender('not what the serializer wants')
    const failing = { encode: JSON.stringify, decode: () => { throw new Error('bad frame') } }
    const c = watched(`${url}?token=${SECRET}`, { serializer: failing })
    c.open()
    await waitFor(() => errors.some((e) => e.kind === 'decode'))
    const d = watched(`${url}?token=${SECRET}&x=1`, { queue: { max: 1 } })
    d.send('a')
    d.send('b')
    await waitFor(() => errors.some((e) => e.kind === 'dropped'))
  })

  it('an invalid URL and a token the subprotocol cannot carry', async () => {
    let thrown: unknown
    try {
      normalizeUrl(`ftp://h/?token=${SECRET}`)
    } catch (error) {
      thrown = error
    }
    expectNoSecret({ thrown: (thrown as Error).message })
    const url = await sender('x')
    const c = watched(url, { token: `${SECRET} with spaces` })
    c.open()
    await waitFor(() => errors.some((e) => e.kind === 'auth'))
  })
})

describe('useChannel with a token refused by the server', () => {
  let server: RealtimeServer

  beforeEach(async () => {
    server = createRealtimeServer({ host: '127.0.0.1', port: 0, authenticate: (_req, token) => (token === 'the-right-one' ? {} : null) })
    await server.ready
    server.on('error', (e) => errors.push({ kind: 'socket', message: e.message, cause: e }))
    cleanups.push(() => server.close({ timeout: 200 }))
  })

  for (const [how, url, token] of [
    ['query', () => `${server.url}?token=${SECRET}`, undefined],
    ['token option', () => server.url, SECRET],
  ] as const) {
    it(`by ${how}: 4401 shows in error and lastClose without the token`, async () => {
      let channel!: UseChannelReturn<unknown>
      const plugin = createRealtime({ url: url(), WebSocket: NodeWebSocket, idleTimeout: 0, devtools: false, ...(token ? { token } : {}) })
      const wrapper = mount(
        defineComponent({
          setup() {
            channel = useChannel('room:1')
            return () => h('p')
          },
        }),
        { global: { plugins: [plugin] } },
      )
      cleanups.push(() => wrapper.unmount())
      // 4401 is fatal: the connection fails without retrying.
      await waitFor(() => channel.status.value === 'failed')
      const states = [...plugin.manager.connections.values()].map((c) => c.state)
      expect(states.map((s) => s.lastClose?.code)).toEqual([4401])
      expectNoSecret({ error: channel.error.value, states: states.map((s) => inspect(s)) })
    })
  }
})

describe('the Pinia store and the devtools timeline', () => {
  it('show a failing connection with a token in the URL and in the token option, masked', async () => {
    const { createPinia, setActivePinia } = await import('pinia')
    const { createApp } = await import('vue')
    const { useRealtimeStore } = await import('../../src/pinia')
    const events: unknown[] = []
    const plugin = createRealtime({ WebSocket: NodeWebSocket, heartbeat: false, reconnect: false, idleTimeout: 0, devtools: { addTimelineEvent: (e) => events.push(e) } })
    const pinia = createPinia()
    const app = createApp({ render: () => null }).use(pinia).use(plugin)
    app.mount(document.createElement('div'))
    cleanups.push(() => app.unmount())
    setActivePinia(pinia)
    const store = useRealtimeStore()
    const refused = `ws://127.0.0.1:${await closedPort()}/ws?token=${SECRET}`
    const c = store.connect(refused)!
    c.on('error', (e) => errors.push(e))
    const url = await sender('x')
    const d = store.connect(`${url}?room=1`, { token: SECRET })!
    await waitFor(() => c.status === 'failed' && d.status === 'open')
    store.send(`${url}?room=1`, 'hello')
    expectNoSecret({ keys: Object.keys(store.connections), state: inspect(store.$state, { depth: 6 }), events: inspect(events, { depth: 6 }) })
  })
})
