// A planned close (server.close(), 1012) tells each client when to come back: its own moment in a
// window sized by the number of clients (CloseOptions.retryRate), so a herd returns at an even
// rate. Real servers on 127.0.0.1, real sockets; the client side's schedule is in
// test/core/backoff.test.ts (fake timers).
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { parseRetryHint } from '../../src/core/backoff'
import { Connection } from '../../src/core/connection'
import { createRealtimeServer, type RealtimeServer } from '../../src/server'
import { connect, startServer, type TestClient } from './helpers'
import { waitFor } from '../support/wait'

const servers: RealtimeServer[] = []
const connections: Connection[] = []
const clients: TestClient[] = []

afterEach(async () => {
  for (const c of connections.splice(0)) c.dispose()
  await Promise.all(clients.splice(0).map((c) => c.close()))
  await Promise.all(servers.splice(0).map((s) => s.close()))
})

async function closedWith(count: number, options: Parameters<RealtimeServer['close']>[0]) {
  const server = await startServer()
  const all = await Promise.all(Array.from({ length: count }, () => connect(server.url)))
  clients.push(...all)
  await server.close(options)
  return Promise.all(all.map((c) => c.closed))
}

describe('retry hints on a planned close', () => {
  it('spreads the clients evenly over clients ÷ retryRate, each with its own moment', async () => {
    const closes = await closedWith(40, { retryRate: 100, retryAfter: 1_000 })
    const hints = closes.map((closed) => parseRetryHint(closed.reason))
    // 40 clients at 100 per second: a 400 ms window after the first second, 10 ms apart.
    expect(hints.map((h) => h?.window)).toEqual(new Array(40).fill(400))
    expect(hints.map((h) => h!.delay).sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => 1_000 + i * 10))
    expect(closes.every((closed) => closed.code === 1012 && closed.reason.startsWith('server shutting down; '))).toBe(true)
    // Clients that connected together (one proxy, one busy process) are far apart in the window:
    // any 10 consecutive ones cover at least 3/4 of it, so a group whose closes arrive late
    // together does not land on top of another.
    const delays = hints.map((h) => h!.delay - 1_000)
    for (let i = 0; i + 10 <= delays.length; i++) {
      const run = delays.slice(i, i + 10)
      expect(Math.max(...run) - Math.min(...run)).toBeGreaterThanOrEqual(300)
    }
  })

  it('sends no hint with retryRate: 0, nor with a code the client does not retry after', async () => {
    expect((await closedWith(2, { retryRate: 0 })).map((c) => c.reason)).toEqual(['server shutting down', 'server shutting down'])
    expect(await closedWith(1, { code: 4401, reason: 'revoked' })).toEqual([{ code: 4401, reason: 'revoked' }])
  })

  it('keeps a long reason within a close frame', async () => {
    const [closed] = await closedWith(1, { reason: 'maintenance window: back soon '.repeat(8) })
    expect(Buffer.byteLength(closed.reason)).toBeLessThanOrEqual(123)
    expect(parseRetryHint(closed.reason)).toMatchObject({ delay: 0, window: 250 })
  })

  it('refuses a bad option with a clear error and keeps running', async () => {
    const server = await startServer()
    servers.push(server)
    await expect(server.close({ retryRate: -1 })).rejects.toThrow(/retryRate.*finite number ≥ 0/)
    await expect(server.close({ retryAfter: Number.NaN })).rejects.toThrow(/retryAfter/)
    const client = await connect(server.url)
    clients.push(client)
    await client.roundTrip()
    expect(server.clients.size).toBe(1)
  })

  it('brings a Connection back to the restarted server on the same port by the hint', async () => {
    const first = createRealtimeServer({ host: '127.0.0.1', port: 0 })
    await first.ready
    const port = first.port
    const connection = new Connection(first.url, { WebSocket, heartbeat: false })
    connections.push(connection)
    connection.open()
    await waitFor(() => connection.state.status === 'open', { message: 'the first open' })
    // When the close is told, the retry is armed: where, from the state it set (no clock measured).
    let retryIn: number | null = null
    connection.on('close', () => (retryIn ??= connection.state.nextRetryAt! - Date.now()))
    await first.close({ retryAfter: 1_500 })
    await waitFor(() => retryIn !== null, { message: 'the close of the first server' })
    // Followed: 1.5 s away, where the phase schedule never goes (its first retry is within 980 ms).
    expect(retryIn).toBeGreaterThan(1_490)
    expect(retryIn).toBeLessThanOrEqual(1_501)
    // And taken off the reason people see.
    expect(connection.state.lastClose).toMatchObject({ code: 1012, reason: 'server shutting down' })
    const second = createRealtimeServer({ host: '127.0.0.1', port })
    servers.push(second)
    await second.ready
    await waitFor(() => connection.state.status === 'open', { message: 'open on the restarted server' })
    expect(second.clients.size).toBe(1)
  })
})
