import { createServer, type Server } from 'node:http'
import { connect as tcpConnect, type Socket } from 'node:net'
import { performance } from 'node:perf_hooks'
import { afterEach, describe, expect, it } from 'vitest'
import { createRealtimeServer, type RealtimeServer } from '../../src/server'
import { once, waitFor } from '../support/wait'
import { WebSocket } from 'ws'
import { PROTOCOL } from '../../src/core/protocol'
import { connect, open, startServer, TestClient, until } from './helpers'

let server: RealtimeServer | null = null
let http: Server | null = null
const sockets: Socket[] = []
const clients: TestClient[] = []

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy()
  // A client still in its handshake would wait for the server to answer.
  for (const c of clients) if (c.ws.readyState === WebSocket.CONNECTING) c.ws.terminate()
  await Promise.all(clients.splice(0).map((c) => c.close()))
  await server?.close()
  server = null
  if (http) await new Promise<void>((r) => http!.close(() => r()))
  http = null
})

const HALF_REQUEST = 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
const FULL_REQUEST = HALF_REQUEST + 'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n'

interface RawSocket {
  socket: Socket
  /** When the TCP connection was started (performance.now()): the server cannot have seen it earlier. */
  startedAt: number
  /** Everything the server sent. */
  received: () => string
  /** Resolves when the server ended the connection, with the time (performance.now()). */
  closed: Promise<number>
}

/** A raw TCP client that writes `text` once connected and then stops (a half-open upgrade when `text` is partial). */
async function raw(port: number, text: string): Promise<RawSocket> {
  const startedAt = performance.now()
  const socket = tcpConnect(port, '127.0.0.1')
  sockets.push(socket)
  socket.on('error', () => {})
  let data = ''
  socket.on('data', (chunk) => (data += chunk.toString('latin1')))
  const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(performance.now())))
  await once(socket, 'connect')
  if (text) socket.write(text)
  return { socket, startedAt, received: () => data, closed }
}

/** Bounded wait for many promises (each raw socket's close). */
function settledWithin<T>(promises: Promise<T>[], ms: number, what: string): Promise<T[]> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const bound = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)))
  return Promise.race([Promise.all(promises), bound]).finally(() => clearTimeout(timer))
}

describe('handshake timeout', () => {
  it('closes 200 half-open upgrades after the handshake timeout while a normal client still connects', async () => {
    // Generous enough that a normal handshake on a loaded 2-core machine fits inside it many times over.
    const handshakeTimeout = 2_000
    server = await startServer({ handshakeTimeout })
    const port = server.port
    const half = await Promise.all(Array.from({ length: 200 }, (_, i) => raw(port, i % 2 ? HALF_REQUEST : '')))
    const normal = await connect(server.url)
    clients.push(normal)
    const welcomedAt = performance.now()
    const closedAt = await settledWithin(
      half.map((h) => h.closed),
      handshakeTimeout + 15_000,
      'the half-open upgrades to be closed',
    )
    // Timers never fire early: none was cut before its deadline, and the normal client got in first.
    half.forEach((h, i) => expect(closedAt[i]! - h.startedAt).toBeGreaterThanOrEqual(handshakeTimeout - 5))
    expect(welcomedAt).toBeLessThan(Math.min(...closedAt))
    // The server said why: 408 (a silent socket and a half-sent request alike).
    for (const h of half) expect(h.received()).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/)
    await normal.roundTrip()
  })

  it('times out a complete upgrade stuck in the server on an attached HTTP server too', async () => {
    http = createServer()
    await new Promise<void>((r) => http!.listen(0, '127.0.0.1', r))
    let aborted: unknown
    server = await startServer({
      server: http,
      handshakeTimeout: 300,
      authenticateTimeout: 60_000,
      authenticate: (_req, _token, { signal }) =>
        new Promise<null>((resolve) =>
          signal.addEventListener('abort', () => {
            aborted = signal.reason
            resolve(null)
          }),
        ),
    })
    const { port } = http.address() as { port: number }
    const stuck = await raw(port, FULL_REQUEST)
    await settledWithin([stuck.closed], 10_000, 'the stuck upgrade to be closed')
    expect(stuck.received()).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/)
    expect(String(aborted)).toMatch(/handshake timeout/)
  })
})

describe('pending upgrade cap', () => {
  it('refuses new connections at once beyond maxPendingUpgrades, reports it once, and recovers', async () => {
    const releases: Array<() => void> = []
    const errors: Error[] = []
    server = await startServer({
      maxPendingUpgrades: 5,
      authenticateTimeout: 60_000,
      authenticate: () => new Promise<{ ok: true }>((resolve) => releases.push(() => resolve({ ok: true }))),
    })
    server.on('error', (e) => errors.push(e))
    // Not awaited: they stay in the handshake until authenticate answers.
    const pending = Array.from({ length: 5 }, () => new TestClient(new WebSocket(server!.url, [PROTOCOL])))
    clients.push(...pending)
    // Five upgrades sit in authenticate: the cap is reached.
    await until(() => releases.length === 5, 'five authenticate calls')
    const refused = await Promise.all([raw(server.port, ''), raw(server.port, FULL_REQUEST)])
    await settledWithin(refused.map((r) => r.closed), 10_000, 'the refusals')
    expect(refused[0]!.received()).toMatch(/^HTTP\/1\.1 503 Service Unavailable\r\n/)
    expect(errors.map((e) => e.message)).toEqual([expect.stringMatching(/5 upgrades are pending, the "maxPendingUpgrades" cap/)])
    // Once the pending ones complete, new clients get in again.
    for (const release of releases) release()
    await Promise.all(pending.map((c) => c.waitType('welcome')))
    releases.length = 0
    const later = new TestClient(new WebSocket(server.url, [PROTOCOL]))
    clients.push(later)
    await until(() => releases.length === 1, 'authenticate of the new client')
    releases[0]!()
    await later.waitType('welcome')
  })
})

describe('authenticate timeout', () => {
  it('closes with 4401 when authenticate is too slow, aborts its signal and reports it', async () => {
    const errors: Error[] = []
    let signal: AbortSignal | undefined
    server = await startServer({
      authenticateTimeout: 200,
      authenticate: (_req, _token, context) => {
        signal = context.signal
        return new Promise<never>(() => {})
      },
    })
    server.on('error', (e) => errors.push(e))
    const slow = await open(server.url)
    expect(await slow.closed).toEqual({ code: 4401, reason: 'unauthorized: authentication timed out' })
    expect(slow.frames).toEqual([])
    expect(signal?.aborted).toBe(true)
    await waitFor(() => errors.length === 1)
    expect(errors[0]!.message).toMatch(/^\[vue-realtime\/server\] authenticate: did not settle within 200 ms; .*"authenticateTimeout"/)
  })

  it('validates the limits with a clear error', () => {
    for (const [name, value] of [
      ['handshakeTimeout', 0],
      ['authenticateTimeout', -1],
      ['handshakeTimeout', 2 ** 31],
      ['maxPendingUpgrades', 1.5],
    ] as const) {
      expect(() => createRealtimeServer({ noServer: true, [name]: value }), name).toThrow(new RegExp(`option "${name}" must be a positive`))
    }
  })
})

describe('close() with upgrades in flight', () => {
  it('ends half-open sockets and pending authenticate calls and leaves no handle', async () => {
    const before = new Set(process.getActiveResourcesInfo())
    const baseline = process.getActiveResourcesInfo().length
    let signal: AbortSignal | undefined
    server = createRealtimeServer({
      host: '127.0.0.1',
      port: 0,
      authenticate: (_req, _token, context) => {
        signal = context.signal
        return new Promise<never>(() => {})
      },
    })
    await server.ready
    const half = await Promise.all([raw(server.port, HALF_REQUEST), raw(server.port, '')])
    const inAuth = await raw(server.port, FULL_REQUEST)
    await until(() => signal !== undefined, 'authenticate called')
    await server.close()
    server = null
    await settledWithin([...half, inAuth].map((h) => h.closed), 10_000, 'every pending socket to close')
    expect(signal!.aborted).toBe(true)
    for (const s of sockets.splice(0)) s.destroy()
    await until(() => process.getActiveResourcesInfo().length <= baseline, 'handles are released')
    expect(process.getActiveResourcesInfo().filter((r) => !before.has(r) && r !== 'TTYWrap')).toEqual([])
  })
})
