import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { Connection } from '../../src/core/connection'
import { createManualEnvironment } from '../../src/core/environment'
import { mergeOptions } from '../../src/core/manager'
import { ProtocolClient, protocolConnectionOptions } from '../../src/core/protocolClient'
import type { MessageFrame, SubscribedFrame } from '../../src/core/protocol'
import type { ConnectionOptions } from '../../src/core/types'
import { createRealtimeServer, type RealtimeServer, type RealtimeServerOptions } from '../../src/server'
import { waitFor } from '../support/wait'

const cleanups: (() => unknown)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function startServer(options: RealtimeServerOptions = {}): Promise<RealtimeServer> {
  const server = createRealtimeServer({ port: 0, host: '127.0.0.1', ...options })
  await server.ready
  cleanups.push(() => server.close({ timeout: 200 }).catch(() => {}))
  return server
}

function client(url: string, extra: ConnectionOptions = {}) {
  const connection = new Connection(
    url,
    mergeOptions(protocolConnectionOptions, {
      WebSocket: WebSocket as unknown as ConnectionOptions['WebSocket'],
      reconnect: { minDelay: 50, maxDelay: 300 },
      ...extra,
    }),
  )
  cleanups.push(() => connection.dispose())
  const protocol = ProtocolClient.for(connection)
  const received: MessageFrame[] = []
  const joins: SubscribedFrame[] = []
  const gaps: unknown[] = []
  const join = (topic: string, history = 0) =>
    protocol.subscribe(topic, { message: (m) => received.push(m), subscribed: (s) => joins.push(s), gap: (g) => gaps.push(g) }, { history })
  connection.open()
  return { connection, protocol, received, joins, gaps, join }
}

describe('ProtocolClient against the real server', () => {
  it('shows every message exactly once and in order while the server is killed and restarted', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'vue-realtime-store-'))
    let server = createRealtimeServer({ port: 0, dataDir })
    await server.ready
    const port = server.port
    const a = client(server.url)
    const b = client(server.url)
    a.join('room:1')
    b.join('room:1')
    await waitFor(() => a.joins.length === 1 && b.joins.length === 1)

    const publishes: Promise<unknown>[] = []
    for (let i = 0; i < 10; i++) {
      publishes.push(a.protocol.publish('room:1', { from: 'a', i }), b.protocol.publish('room:1', { from: 'b', i }))
    }
    await Promise.all(publishes)
    await server.close({ code: 1012 })
    await waitFor(() => a.connection.state.status === 'reconnecting' && b.connection.state.status === 'reconnecting')
    // Published while the server is down: held, then resent with the same ids.
    for (let i = 10; i < 20; i++) {
      publishes.push(a.protocol.publish('room:1', { from: 'a', i }), b.protocol.publish('room:1', { from: 'b', i }))
    }
    server = createRealtimeServer({ port, dataDir })
    await server.ready
    cleanups.push(() => server.close({ timeout: 200 }))
    await Promise.all(publishes)
    await waitFor(() => a.received.length >= 40 && b.received.length >= 40, { timeout: 10_000 })

    for (const { received } of [a, b]) {
      expect(received).toHaveLength(40)
      expect(received.map((m) => m.seq)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1))
      expect(new Set(received.map((m) => m.id)).size).toBe(40)
      for (const who of ['a', 'b']) {
        const mine = received.map((m) => m.data as { from: string; i: number }).filter((d) => d.from === who)
        expect(mine.map((d) => d.i)).toEqual(Array.from({ length: 20 }, (_, i) => i))
      }
    }
  })

  it('delivers a publish made while offline after the reconnect, once', async () => {
    const server = await startServer()
    const env = createManualEnvironment()
    const sender = client(server.url, { environment: env })
    const watcher = client(server.url)
    watcher.join('room:offline')
    sender.join('room:offline')
    await waitFor(() => watcher.joins.length === 1 && sender.joins.length === 1)
    env.emit({ type: 'offline' })
    expect(sender.connection.state.status).toBe('offline')
    const acked = sender.protocol.publish('room:offline', 'typed while offline')
    env.emit({ type: 'online' })
    const ack = await acked
    expect(ack.seq).toBe(1)
    await waitFor(() => watcher.received.length === 1 && sender.received.length === 1)
    expect(watcher.received.map((m) => m.data)).toEqual(['typed while offline'])
  })

  it('rejoins from the last sequence after a reconnect and reports a gap larger than the history', async () => {
    const server = await startServer({ historyLimit: 5 })
    const env = createManualEnvironment()
    const c = client(server.url, { environment: env })
    c.join('room:gap')
    await waitFor(() => c.joins.length === 1)
    await server.publish('room:gap', 'first')
    await waitFor(() => c.received.length === 1)

    env.emit({ type: 'offline' })
    for (let i = 0; i < 3; i++) await server.publish('room:gap', `small gap ${i}`)
    env.emit({ type: 'online' })
    await waitFor(() => c.joins.length === 2)
    expect(c.joins[1].recovered).toBe(true)
    await waitFor(() => c.received.length === 4)
    expect(c.received.map((m) => m.seq)).toEqual([1, 2, 3, 4])

    env.emit({ type: 'offline' })
    for (let i = 0; i < 20; i++) await server.publish('room:gap', `big gap ${i}`)
    env.emit({ type: 'online' })
    await waitFor(() => c.joins.length === 3)
    expect(c.joins[2].recovered).toBe(false)
    expect(c.gaps).toMatchObject([{ topic: 'room:gap', since: 4, head: 24 }])
  })

  it('rejects a request on timeout, and every pending request when the user closes', async () => {
    const server = await startServer({
      onRequest: {
        echo: (data) => data,
        never: () => new Promise(() => {}),
      },
    })
    const c = client(server.url)
    await waitFor(() => c.connection.state.status === 'open')
    expect(await c.protocol.request('echo', { x: 1 })).toEqual({ x: 1 })
    await expect(c.protocol.request('missing')).rejects.toMatchObject({ code: 'not_found' })
    await expect(c.protocol.request('never', null, { timeout: 100 })).rejects.toThrow(/no answer within 100 ms/)
    const hanging = [c.protocol.request('never'), c.protocol.publish('room:x', 'unacked?')]
    const settled = Promise.allSettled(hanging)
    c.connection.close()
    const results = await settled
    expect(results.map((r) => r.status)).toContain('rejected')
    for (const result of results) {
      if (result.status === 'rejected') expect(String(result.reason)).toMatch(/closed/)
    }
  })

  it('fails on an auth rejection, explains the close code, and does not retry', async () => {
    const server = await startServer({ authenticate: (_req, token) => (token === 'good' ? { name: 'ok' } : null) })
    let connections = 0
    server.on('connection', () => connections++)
    const c = client(server.url)
    await waitFor(() => c.connection.state.status === 'failed')
    expect(c.connection.state.lastClose).toMatchObject({ code: 4401, retryable: false, name: 'Private (client error)' })
    expect(c.connection.state).toMatchObject({ attempt: 0, nextRetryAt: null })
    const ok = client(`${server.url}?token=good`)
    await waitFor(() => ok.connection.state.status === 'open')
    expect(connections).toBe(1)
  })

  it('ends in failed with the meaning of 1008 on a flood and 1009 on an oversized frame', async () => {
    const server = await startServer({ rateLimit: { messages: 20, perMs: 60_000 }, maxPayload: 1024 })
    const flood = client(server.url)
    await waitFor(() => flood.connection.state.status === 'open')
    for (let i = 0; i < 50; i++) flood.connection.send({ type: 'ping' })
    await waitFor(() => flood.connection.state.status === 'failed')
    expect(flood.connection.state.lastClose).toMatchObject({ code: 1008, name: 'Policy Violation' })
    expect(flood.connection.state.lastClose?.reason).toMatch(/rate/i)

    const big = client(server.url)
    await waitFor(() => big.connection.state.status === 'open')
    big.connection.send({ type: 'publish', topic: 'room:big', id: 'x', data: 'y'.repeat(4096) })
    await waitFor(() => big.connection.state.status === 'failed')
    expect(big.connection.state.lastClose).toMatchObject({ code: 1009, name: 'Message Too Big' })
  })
})
