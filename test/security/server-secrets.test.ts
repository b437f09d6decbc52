/**
 * The client's token never leaves the server's admission path: not in an error it reports,
 * a log line, a close reason, `welcome`, presence, or the `connection`/`disconnect` payloads.
 * Every path runs with the marker token; console and stdout/stderr are captured throughout.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { WebSocket, type ClientOptions } from 'ws'
import { PROTOCOL, TOKEN_PROTOCOL_PREFIX } from '../../src/core/protocol'
import type { RealtimeClient, RealtimeServer, RealtimeServerOptions } from '../../src/server'
import { captureOutput, expectNoSecret, SECRET } from '../support/secret'
import { waitFor } from '../support/wait'
import { connect, open, startServer, TestClient, type Frame } from '../server/helpers'

interface User {
  name: string
}

let server: RealtimeServer<User> | null = null
let output: ReturnType<typeof captureOutput>
const clients: TestClient[] = []
/** Everything the server reported or emitted during a test. */
const seen: Record<string, unknown[]> = { errors: [], connections: [], disconnects: [], closes: [], frames: [] }

beforeEach(() => {
  output = captureOutput()
  for (const list of Object.values(seen)) list.length = 0
})

afterEach(async () => {
  for (const c of clients.splice(0)) {
    seen.frames!.push(...c.frames)
    if (c.ws.readyState === WebSocket.OPEN) c.ws.close()
    else if (c.ws.readyState === WebSocket.CONNECTING) c.ws.terminate()
  }
  await server?.close({ timeout: 500 })
  server = null
  const printed = output.restore()
  expectNoSecret({ printed, ...seen })
})

/** A server whose events are all recorded; `listenErrors: false` leaves errors to console.error. */
async function serve(options: RealtimeServerOptions<User>, listenErrors = true): Promise<RealtimeServer<User>> {
  server = await startServer<User>(options)
  if (listenErrors) server.on('error', (e) => seen.errors!.push(e, e.stack, (e as Error & { cause?: unknown }).cause))
  server.on('connection', (c) => seen.connections!.push(c))
  server.on('disconnect', (d) => seen.disconnects!.push(d))
  return server
}

const viaQuery = (s: RealtimeServer<User>): string => `${s.url}?token=${SECRET}`
const viaProtocol = [PROTOCOL, TOKEN_PROTOCOL_PREFIX + SECRET]

async function refused(url: string, protocols?: string[], options?: ClientOptions): Promise<number> {
  const c = await open(url, protocols, options)
  clients.push(c)
  const closed = await c.closed
  seen.closes!.push(closed)
  return closed.code
}

describe('the token stays out of everything the server prints or sends', () => {
  it('a bad token, by query and by subprotocol: 4401', async () => {
    await serve({ authenticate: (_req, token) => (token === 'the-right-one' ? { name: 'ada' } : null) })
    expect(await refused(viaQuery(server!))).toBe(4401)
    expect(await refused(server!.url, viaProtocol)).toBe(4401)
  })

  it('authenticate throwing an error that quotes the token and the URL, with and without an error listener', async () => {
    const authenticate: RealtimeServerOptions<User>['authenticate'] = (req, token) => {
      const cause = new Error(`jwt malformed: ${token}`)
      throw new Error(`cannot verify ${token} from ${req.url}`, { cause })
    }
    await serve({ authenticate })
    expect(await refused(viaQuery(server!))).toBe(4401)
    expect(await refused(server!.url, viaProtocol)).toBe(4401)
    await waitFor(() => seen.errors!.length === 6)
    expect(String((seen.errors![0] as Error).message)).toMatch(/cannot verify \*\*\* from \/\?token=\*\*\*/)
    await server!.close()
    // No listener: the server prints to console.error, which is captured here.
    await serve({ authenticate }, false)
    expect(await refused(viaQuery(server!))).toBe(4401)
    await waitFor(() => /cannot verify/.test(output.text()))
  })

  it('authenticate too slow: 4401 and a report', async () => {
    await serve({ authenticateTimeout: 100, authenticate: () => new Promise<never>(() => {}) })
    expect(await refused(viaQuery(server!))).toBe(4401)
    await waitFor(() => seen.errors!.length > 0)
  })

  it('a refused origin: 4403, authenticate never sees the token', async () => {
    let called = false
    await serve({
      authenticate: () => {
        called = true
        return { name: 'ada' }
      },
    })
    expect(await refused(viaQuery(server!), undefined, { origin: 'https://evil.example' })).toBe(4403)
    expect(await refused(server!.url, viaProtocol, { origin: 'https://evil.example' })).toBe(4403)
    expect(called).toBe(false)
  })

  it('an accepted token: welcome, presence, subscribed, the events and the client objects', async () => {
    await serve({ authenticate: (_req, token) => (token === SECRET ? { name: 'ada' } : null) })
    const a = await connect(viaQuery(server!))
    const b = await connect(server!.url, viaProtocol)
    clients.push(a, b)
    await a.subscribe('room')
    await b.subscribe('room')
    await a.waitType('presence', (f: Frame) => f.event === 'join')
    await a.publish('room', 'm1', { text: 'hi' })
    const presence = await server!.presence('room')
    expect(presence).toHaveLength(2)
    expectNoSecret({ presence, clients: [...server!.clients.values()] as RealtimeClient<User>[] })
    b.ws.close()
    await a.waitType('presence', (f: Frame) => f.event === 'leave')
    await waitFor(() => seen.disconnects!.length === 1)
    expect(seen.connections).toHaveLength(2)
  })

  it('protocol errors and server failures of a connection that came with a token', async () => {
    await serve({
      authenticate: () => ({ name: 'ada' }),
      onRequest: {
        broken: () => {
          throw new Error('handler failed')
        },
      },
    })
    const c = await connect(viaQuery(server!))
    clients.push(c)
    c.send('{not json')
    c.send(Buffer.from([1, 2, 3]))
    c.send({ type: 'subscribe', topic: 'bad topic' })
    c.send({ type: 'request', id: 1, method: 'broken' })
    await c.waitType('response')
    await waitFor(() => seen.errors!.length > 0)
  })
})
