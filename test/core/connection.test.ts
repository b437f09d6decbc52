import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { backoffDelay, RECONNECT_DEFAULTS } from '../../src/core/backoff'
import { Connection } from '../../src/core/connection'
import { createManualEnvironment } from '../../src/core/environment'
import type { ConnectionOptions, ConnectionStatus } from '../../src/core/types'
import { FakeWebSocket } from './fakeSocket'

const URL = 'ws://127.0.0.1:1/socket'
/** The first retry's delay under the default reconnect options and this file's random() = 0.5. */
const FIRST_RETRY = backoffDelay(1, RECONNECT_DEFAULTS, () => 0.5)
let env: ReturnType<typeof createManualEnvironment>

function connect<In = unknown, Out = unknown>(options: ConnectionOptions<In, Out> = {}) {
  const connection = new Connection<In, Out>(URL, {
    WebSocket: FakeWebSocket,
    environment: env,
    ...options,
  })
  const statuses: ConnectionStatus[] = []
  connection.on('state', (s) => {
    if (statuses.at(-1) !== s.status) statuses.push(s.status)
  })
  return { connection, statuses }
}

beforeEach(() => {
  vi.useFakeTimers()
  FakeWebSocket.reset()
  env = createManualEnvironment({ random: () => 0.5 })
})
afterEach(() => {
  vi.useRealTimers()
})

describe('Connection state machine', () => {
  it('goes idle → connecting → open, mirroring readyState, and delivers decoded messages', () => {
    const { connection, statuses } = connect()
    const messages: unknown[] = []
    connection.on('message', (m) => messages.push(m))
    expect(connection.state.status).toBe('idle')
    connection.open()
    expect(connection.state.readyState).toBe(0)
    FakeWebSocket.last.accept()
    expect(connection.state).toMatchObject({ status: 'open', readyState: 1 })
    FakeWebSocket.last.receive('{"a":1}').receive('plain text').receive('{broken')
    expect(messages).toEqual([{ a: 1 }, 'plain text', '{broken'])
    expect(statuses).toEqual(['connecting', 'open'])
  })

  it('abandons a socket stuck in CONNECTING after connectTimeout and retries', () => {
    const { connection } = connect({ connectTimeout: 3_000 })
    connection.open()
    const first = FakeWebSocket.last
    vi.advanceTimersByTime(3_000)
    expect(first.terminated).toBe(true)
    expect(connection.state.status).toBe('reconnecting')
    // An attempt that never opened is an error; lastClose keeps the close of the last open link.
    expect(connection.state.error).toMatchObject({ kind: 'connect-timeout' })
    expect(connection.state.lastClose).toBeNull()
    vi.advanceTimersByTime(FIRST_RETRY)
    expect(FakeWebSocket.instances).toHaveLength(2)
  })

  it('never runs two attempts at once: reconnect() cancels the scheduled retry', () => {
    const { connection } = connect()
    connection.open()
    FakeWebSocket.last.accept().serverClose(1006)
    expect(connection.state.status).toBe('reconnecting')
    connection.reconnect()
    expect(FakeWebSocket.instances).toHaveLength(2)
    vi.advanceTimersByTime(9_000) // past every backoff delay, short of the connect timeout
    // The cancelled retry never fired; only the (pending) second socket exists.
    expect(FakeWebSocket.instances).toHaveLength(2)
  })

  it('ignores events from a replaced socket', () => {
    const { connection } = connect()
    const messages: unknown[] = []
    connection.on('message', (m) => messages.push(m))
    connection.open()
    const old = FakeWebSocket.last.accept()
    connection.reconnect()
    const fresh = FakeWebSocket.last.accept()
    expect(old.terminated).toBe(true)
    // Late events from the old socket: handlers were detached, and even if a browser
    // fired them anyway through a kept reference they would be ignored.
    old.onclose?.({ code: 1006, reason: '', wasClean: false })
    old.onmessage?.({ data: 'stale' })
    expect(connection.state.status).toBe('open')
    fresh.receive('fresh')
    expect(messages).toEqual(['fresh'])
  })

  it('does not reconnect after the user closed', () => {
    const { connection, statuses } = connect()
    connection.open()
    const socket = FakeWebSocket.last.accept()
    connection.close(1000, 'bye')
    expect(connection.state.status).toBe('closing')
    socket.finishClose()
    expect(connection.state.status).toBe('closed')
    vi.advanceTimersByTime(120_000)
    expect(FakeWebSocket.instances).toHaveLength(1)
    expect(statuses).toEqual(['connecting', 'open', 'closing', 'closed'])
    expect(vi.getTimerCount()).toBe(0)
  })

  it('finishes a user close on a dead link without waiting for the handshake', () => {
    const { connection } = connect()
    connection.open()
    const socket = FakeWebSocket.last.accept()
    connection.close()
    vi.advanceTimersByTime(2_000)
    expect(connection.state.status).toBe('closed')
    expect(socket.terminated).toBe(true)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('ends in failed without retries on a fatal close code, explained', () => {
    const { connection } = connect()
    connection.open()
    FakeWebSocket.last.accept().serverClose(1008, 'rate limit', true)
    expect(connection.state.status).toBe('failed')
    expect(connection.state.lastClose).toMatchObject({ code: 1008, name: 'Policy Violation', retryable: false, reason: 'rate limit' })
    vi.advanceTimersByTime(120_000)
    expect(FakeWebSocket.instances).toHaveLength(1)
  })

  it('lets shouldReconnect override the table both ways', () => {
    const { connection } = connect({ reconnect: { shouldReconnect: (info) => (info.code === 1008 ? true : false) } })
    connection.open()
    FakeWebSocket.last.accept().serverClose(1008)
    expect(connection.state.status).toBe('reconnecting')
    vi.advanceTimersByTime(FIRST_RETRY)
    FakeWebSocket.last.accept().serverClose(1012)
    expect(connection.state.status).toBe('failed')
  })

  it('stops after `retries` and after `maxElapsed`', () => {
    const { connection } = connect({ reconnect: { retries: 2 } })
    connection.open()
    FakeWebSocket.last.serverClose(1006)
    vi.advanceTimersByTime(10_000)
    FakeWebSocket.last.serverClose(1006)
    vi.advanceTimersByTime(10_000)
    FakeWebSocket.last.serverClose(1006)
    expect(connection.state.status).toBe('failed')
    expect(FakeWebSocket.instances).toHaveLength(3)

    FakeWebSocket.reset()
    const other = connect({ reconnect: { maxElapsed: 1_000 } }).connection
    other.open()
    FakeWebSocket.last.serverClose(1006)
    vi.advanceTimersByTime(600)
    vi.advanceTimersByTime(1_000)
    FakeWebSocket.last.serverClose(1006)
    expect(other.state.status).toBe('failed')
  })

  it('resets the attempt count only after minUptime connected, not on open', () => {
    const { connection } = connect({ reconnect: { minUptime: 5_000 } })
    connection.open()
    FakeWebSocket.last.serverClose(1006)
    expect(connection.state.attempt).toBe(1)
    vi.advanceTimersByTime(10_000)
    FakeWebSocket.last.accept()
    expect(connection.state.attempt).toBe(1) // open alone does not reset
    vi.advanceTimersByTime(4_999)
    FakeWebSocket.last.serverClose(1006) // flapped before minUptime
    expect(connection.state.attempt).toBe(2)
    vi.advanceTimersByTime(10_000)
    FakeWebSocket.last.accept()
    vi.advanceTimersByTime(5_000)
    expect(connection.state.attempt).toBe(0)
  })

  it('publishes nextRetryAt for a countdown', () => {
    const { connection } = connect()
    connection.open()
    const now = Date.now()
    FakeWebSocket.last.accept().serverClose(1006)
    expect(connection.state.nextRetryAt).toBe(Math.round(now + FIRST_RETRY))
  })

  it('reports a throwing listener without breaking the connection', () => {
    const { connection } = connect()
    const errors: string[] = []
    connection.on('error', (e) => errors.push(e.kind))
    connection.on('message', () => {
      throw new Error('boom')
    })
    const seen: unknown[] = []
    connection.on('message', (m) => seen.push(m))
    connection.open()
    FakeWebSocket.last.accept().receive('a').receive('b')
    expect(seen).toEqual(['a', 'b'])
    expect(errors).toEqual(['callback', 'callback'])
    expect(connection.state.status).toBe('open')
  })
})

describe('heartbeat', () => {
  const heartbeat = { interval: 1_000, timeout: 500 }

  it('pings every interval, swallows pongs and measures latency', () => {
    const { connection } = connect({ heartbeat })
    const messages: unknown[] = []
    connection.on('message', (m) => messages.push(m))
    connection.open()
    const socket = FakeWebSocket.last.accept()
    vi.advanceTimersByTime(1_000)
    expect(socket.sent).toEqual(['ping'])
    vi.advanceTimersByTime(40)
    socket.receive('pong')
    expect(connection.state.latency).toBe(40)
    socket.receive('{"type":"pong","ts":1}')
    expect(messages).toEqual([])
    vi.advanceTimersByTime(1_000)
    expect(socket.sent).toEqual(['ping', 'ping'])
  })

  it('replaces a half-open socket at the deadline without waiting for a closing handshake', () => {
    const { connection } = connect({ heartbeat })
    const closes: string[] = []
    connection.on('close', (c) => closes.push(c.reason))
    connection.open()
    const socket = FakeWebSocket.last.accept()
    vi.advanceTimersByTime(1_000 + 500)
    // The verdict waits one macrotask, for a pong already in the socket.
    expect(socket.terminated).toBe(false)
    vi.advanceTimersByTime(1)
    expect(socket.terminated).toBe(true)
    expect(closes).toEqual(['heartbeat timeout'])
    expect(connection.state.status).toBe('reconnecting')
    expect(connection.state.lastClose).toMatchObject({ code: 1006, reason: 'heartbeat timeout', wasClean: false })
    vi.advanceTimersByTime(FIRST_RETRY)
    expect(FakeWebSocket.instances).toHaveLength(2)
  })

  it('counts any inbound frame as life', () => {
    const { connection } = connect({ heartbeat })
    connection.open()
    const socket = FakeWebSocket.last.accept()
    vi.advanceTimersByTime(1_200)
    socket.receive('{"type":"data"}')
    vi.advanceTimersByTime(400)
    expect(connection.state.status).toBe('open')
  })

  it('checks the wall clock before a send: a throttled timer still finds a dead link', () => {
    const { connection } = connect({ heartbeat })
    connection.open()
    const socket = FakeWebSocket.last.accept()
    // The laptop sleeps: the clock jumps, timers have not fired.
    vi.setSystemTime(Date.now() + 60_000)
    expect(connection.send('hello')).toBe('queued')
    expect(socket.sent).toEqual(['ping']) // a probe, the message held back
    vi.setSystemTime(Date.now() + 600)
    expect(connection.send('again')).toBe('queued')
    // Past the probe's deadline (its timer throttled): the next look at the clock (the drain
    // poll) finds it, and the verdict comes from a fresh macrotask, never inside send().
    expect(connection.state.status).toBe('open')
    vi.advanceTimersByTime(60)
    expect(connection.state.status).toBe('reconnecting')
    expect(socket.terminated).toBe(true)
    vi.advanceTimersByTime(FIRST_RETRY)
    FakeWebSocket.last.accept()
    expect(FakeWebSocket.last.sent).toEqual(['hello', 'again'])
  })

  it('probes on visibilitychange to visible', () => {
    const { connection } = connect({ heartbeat })
    connection.open()
    const socket = FakeWebSocket.last.accept()
    env.emit({ type: 'visible' })
    expect(socket.sent).toEqual(['ping'])
    vi.advanceTimersByTime(500 + 1)
    expect(connection.state.status).toBe('reconnecting')
  })
})

describe('outbox', () => {
  it('queues while not open and flushes in order on open', () => {
    const { connection } = connect()
    expect(connection.send({ n: 1 })).toBe('queued')
    expect(connection.send('two')).toBe('queued')
    expect(connection.state.queued).toBe(2)
    connection.open()
    FakeWebSocket.last.accept()
    expect(FakeWebSocket.last.sent).toEqual(['{"n":1}', 'two'])
    expect(connection.state).toMatchObject({ queued: 0 })
    expect(connection.send('three')).toBe('sent')
  })

  it('drops the oldest on overflow and says so (count + error event)', () => {
    const { connection } = connect({ queue: { max: 3 } })
    const errors: string[] = []
    connection.on('error', (e) => errors.push(e.message))
    for (let i = 1; i <= 5; i++) connection.send(`m${i}`)
    expect(connection.state).toMatchObject({ queued: 3, dropped: 2 })
    expect(errors).toHaveLength(2)
    expect(errors[0]).toMatch(/did not fit the send queue/)
    connection.open()
    FakeWebSocket.last.accept()
    expect(FakeWebSocket.last.sent).toEqual(['m3', 'm4', 'm5'])
  })

  it('drops the newest, or throws, as configured', () => {
    const newest = connect({ queue: { max: 2, overflow: 'drop-newest' } }).connection
    expect([newest.send('a'), newest.send('b'), newest.send('c')]).toEqual(['queued', 'queued', 'dropped'])
    expect(newest.state.dropped).toBe(1)
    const strict = connect({ queue: { max: 1, overflow: 'error' } }).connection
    strict.send('a')
    expect(() => strict.send('b')).toThrow(/send queue is full/)
    expect(strict.state.queued).toBe(1)
  })

  it('bounds the queue by bytes', () => {
    const { connection } = connect({ queue: { maxBytes: 10 } })
    connection.send('12345')
    connection.send('67890')
    connection.send('é') // 2 bytes: pushes the oldest out
    expect(connection.state).toMatchObject({ queued: 2, dropped: 1 })
    expect(connection.send('x'.repeat(11))).toBe('dropped') // alone larger than the bound
  })

  it('never sends a message late: TTL expiry drops it', () => {
    const { connection } = connect()
    connection.send('short', { ttl: 1_000 })
    connection.send('long', { ttl: 10_000 })
    vi.advanceTimersByTime(2_000)
    connection.open()
    FakeWebSocket.last.accept()
    expect(FakeWebSocket.last.sent).toEqual(['long'])
    expect(connection.state.dropped).toBe(1)
  })

  it('counts messages that expire while others are queued', () => {
    const { connection } = connect()
    connection.send('old', { ttl: 100 })
    vi.advanceTimersByTime(200)
    expect(connection.send('new')).toBe('queued')
    expect(connection.state).toMatchObject({ queued: 1, dropped: 1 })
  })

  it('reports a send as queued even when an identical message was dropped to make room', () => {
    const { connection } = connect({ queue: { max: 2 } })
    connection.send('same')
    connection.send('other')
    expect(connection.send('same')).toBe('queued')
    expect(connection.state).toMatchObject({ queued: 2, dropped: 1 })
  })

  it('skips the queue for volatile sends', () => {
    const { connection } = connect()
    expect(connection.send('cursor', { volatile: true })).toBe('dropped')
    expect(connection.state.queued).toBe(0)
  })

  it('queues while bufferedAmount is above the high-water mark and drains later', () => {
    const { connection } = connect({ queue: { highWaterMark: 100 } })
    connection.open()
    const socket = FakeWebSocket.last.accept()
    socket.bufferedAmount = 1_000
    expect(connection.send('a')).toBe('queued')
    expect(connection.send('b')).toBe('queued')
    socket.bufferedAmount = 0
    vi.advanceTimersByTime(50)
    expect(socket.sent).toEqual(['a', 'b'])
  })

  it('rejects unserialisable data at send with a clear error and queues nothing', () => {
    const { connection } = connect()
    const circular: Record<string, unknown> = {}
    circular.self = circular
    expect(() => connection.send(circular)).toThrow(/could not JSON-encode/)
    expect(connection.state.queued).toBe(0)
  })
})

describe('environment', () => {
  it('offline closes at once and pauses retries; online reconnects now', () => {
    const { connection } = connect()
    connection.open()
    const socket = FakeWebSocket.last.accept()
    env.emit({ type: 'offline' })
    expect(socket.terminated).toBe(true)
    expect(connection.state.status).toBe('offline')
    vi.advanceTimersByTime(120_000)
    expect(FakeWebSocket.instances).toHaveLength(1)
    env.emit({ type: 'online' })
    expect(FakeWebSocket.instances).toHaveLength(2)
    expect(connection.state.status).toBe('connecting')
  })

  it('opening while offline waits for online', () => {
    env.online = false
    const { connection } = connect()
    connection.open()
    expect(connection.state.status).toBe('offline')
    expect(FakeWebSocket.instances).toHaveLength(0)
    env.emit({ type: 'online' })
    expect(FakeWebSocket.instances).toHaveLength(1)
  })

  it('spends no retries while hidden and reconnects at once when visible', () => {
    const { connection } = connect()
    connection.open()
    FakeWebSocket.last.accept()
    env.emit({ type: 'hidden' })
    FakeWebSocket.last.serverClose(1006)
    expect(connection.state).toMatchObject({ status: 'reconnecting', nextRetryAt: null })
    vi.advanceTimersByTime(600_000)
    expect(FakeWebSocket.instances).toHaveLength(1)
    env.emit({ type: 'visible' })
    expect(FakeWebSocket.instances).toHaveLength(2)
  })

  it('closes with 1001 on pagehide and reopens on a persisted pageshow (bfcache)', () => {
    const { connection } = connect()
    connection.open()
    const socket = FakeWebSocket.last.accept()
    env.emit({ type: 'pagehide', persisted: true })
    expect(socket.terminated).toBe(true)
    expect(connection.state.lastClose?.code).toBe(1001)
    vi.advanceTimersByTime(60_000)
    expect(FakeWebSocket.instances).toHaveLength(1)
    env.emit({ type: 'pageshow', persisted: true })
    expect(FakeWebSocket.instances).toHaveLength(2)
  })

  it('keeps the socket on pagehide when closeOnPageHide is false', () => {
    const { connection } = connect({ closeOnPageHide: false })
    connection.open()
    FakeWebSocket.last.accept()
    env.emit({ type: 'pagehide', persisted: true })
    expect(connection.state.status).toBe('open')
  })

  it('removes its environment listeners and timers when closed', () => {
    let subscribed = 0
    const counting = createManualEnvironment()
    const subscribe = counting.subscribe
    counting.subscribe = (listener) => {
      subscribed++
      const remove = subscribe(listener)
      return () => {
        subscribed--
        remove()
      }
    }
    env = counting
    const { connection } = connect()
    connection.open()
    FakeWebSocket.last.accept()
    expect(subscribed).toBe(1)
    connection.close()
    FakeWebSocket.last.finishClose()
    expect(subscribed).toBe(0)
    expect(vi.getTimerCount()).toBe(0)
  })
})

describe('counters', () => {
  it('folds received/sent changes into one state event per ~16 ms, while `state` is always current', async () => {
    const { connection } = connect({ heartbeat: false })
    connection.open()
    FakeWebSocket.last.accept()
    const published: Array<{ received: number; sent: number }> = []
    connection.on('state', ({ received, sent }) => published.push({ received, sent }))
    // A browser delivers each message as a task of its own: microtasks between them publish nothing.
    for (let i = 0; i < 5; i++) {
      FakeWebSocket.last.receive(`{"i":${i}}`)
      await Promise.resolve()
    }
    connection.send('out')
    await Promise.resolve()
    expect(published).toEqual([])
    expect(connection.state).toMatchObject({ received: 5, sent: 1 })
    vi.advanceTimersByTime(16)
    expect(published).toEqual([{ received: 5, sent: 1 }])
    vi.advanceTimersByTime(100)
    expect(published).toHaveLength(1)
  })

  it('publishes the counters with the next transition and leaves no fold timer after close or dispose', () => {
    const { connection } = connect({ heartbeat: false, reconnect: { minUptime: 0 } })
    connection.open()
    FakeWebSocket.last.accept()
    vi.advanceTimersByTime(0)
    FakeWebSocket.last.receive('1')
    const published: number[] = []
    connection.on('state', (s) => published.push(s.received))
    connection.close()
    expect(published).toEqual([1])
    // A frame during the closing handshake is published at once: `closing` keeps only its grace timer.
    FakeWebSocket.last.receive('2')
    expect(published).toEqual([1, 2])
    expect(vi.getTimerCount()).toBe(1)
    FakeWebSocket.last.finishClose()
    expect(vi.getTimerCount()).toBe(0)

    const second = connect({ heartbeat: false, reconnect: { minUptime: 0 } }).connection
    second.open()
    FakeWebSocket.last.accept()
    vi.advanceTimersByTime(0)
    FakeWebSocket.last.receive('1')
    expect(vi.getTimerCount()).toBe(1)
    second.dispose()
    expect(vi.getTimerCount()).toBe(0)
  })
})

describe('bad input', () => {
  it('rejects an invalid URL naming it and the accepted forms', () => {
    expect(() => new Connection('ftp://example.test/x', { WebSocket: FakeWebSocket })).toThrow(
      /invalid WebSocket URL "ftp:\/\/example.test\/x".*ws:\/\/ or wss:\/\//,
    )
    expect(() => new Connection('not a url', { WebSocket: FakeWebSocket })).toThrow(/invalid WebSocket URL "not a url"/)
    expect(new Connection('http://127.0.0.1:8080/x', { WebSocket: FakeWebSocket }).url).toBe('ws://127.0.0.1:8080/x')
  })
})

describe('token', () => {
  it('adds the token as one more subprotocol, reads a getter on every attempt, and keeps it out of the key', () => {
    let token = 'first'
    const { connection } = connect({ protocols: 'app.v1', token: () => token })
    connection.open()
    expect(FakeWebSocket.last.protocols).toEqual(['app.v1', 'vue-realtime.token.first'])
    expect(connection.key).not.toContain('first')
    FakeWebSocket.last.accept().serverClose(1006)
    token = 'refreshed'
    vi.advanceTimersToNextTimer() // the retry
    expect(FakeWebSocket.instances).toHaveLength(2)
    expect(FakeWebSocket.last.protocols).toEqual(['app.v1', 'vue-realtime.token.refreshed'])
  })

  it('leaves the protocols alone without a token, and honours tokenProtocol', () => {
    const plain = connect({ protocols: ['a', 'b'], token: '' }).connection
    plain.open()
    expect(FakeWebSocket.last.protocols).toEqual(['a', 'b'])
    const custom = connect({ token: 'abc', tokenProtocol: 'bearer.' }).connection
    custom.open()
    expect(FakeWebSocket.last.protocols).toEqual(['bearer.abc'])
  })

  it('reports a token that no subprotocol can carry without printing it, and retries', () => {
    const { connection } = connect({ token: 'has space' })
    const errors: string[] = []
    connection.on('error', (e) => errors.push(`${e.kind}: ${e.message}`))
    connection.open()
    expect(FakeWebSocket.instances).toHaveLength(0)
    expect(errors).toHaveLength(1)
    expect(errors[0]).toMatch(/^auth: .*base64url/)
    expect(errors[0]).not.toContain('has space')
    expect(connection.state.status).toBe('reconnecting')
    connection.close()
  })
})
