/**
 * Heartbeat regressions under fake timers (issue 14, points 13, 14, 15, 18; issue 8, points
 * 8 and 9). `heartbeat.real.test.ts` proves the same against real sockets.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { Connection } from '../../src/core/connection'
import type { ConnectionOptions, HeartbeatOptions, RealtimeErrorInfo } from '../../src/core/types'
import { countingEnvironment, type CountingEnvironment } from './counting'
import { FakeWebSocket } from './fakeSocket'

const URL = 'ws://127.0.0.1:1/socket'
let env: CountingEnvironment

function open(heartbeat: HeartbeatOptions, options: ConnectionOptions = {}) {
  const connection = new Connection(URL, { WebSocket: FakeWebSocket, environment: env, heartbeat, ...options })
  const messages: unknown[] = []
  const errors: RealtimeErrorInfo[] = []
  connection.on('message', (m) => messages.push(m))
  connection.on('error', (e) => errors.push(e))
  connection.open()
  const socket = FakeWebSocket.last.accept()
  return { connection, socket, messages, errors }
}

beforeEach(() => {
  vi.useFakeTimers()
  FakeWebSocket.reset()
  env = countingEnvironment({ random: () => 0.5 })
})
afterEach(() => {
  vi.useRealTimers()
  vi.restoreAllMocks()
})

describe('no false positive', () => {
  it('on a busy event loop: a pong read in the same turn as the expired deadline keeps the link (point 13)', () => {
    const { connection, socket } = open({ interval: 1_000, timeout: 500 })
    vi.advanceTimersByTime(1_000)
    expect(socket.sent).toEqual(['ping'])
    // The pong is already in the socket when the deadline's timer runs: it is read only after
    // the timer (registered later for the same instant, as I/O after timers in one loop turn).
    setTimeout(() => socket.receive('pong'), 500)
    vi.advanceTimersByTime(600)
    expect(connection.state.status).toBe('open')
    expect(socket.terminated).toBe(false)
  })

  it('behind a large upload: while bufferedAmount shrinks the deadline moves (point 14)', () => {
    const { connection, socket } = open({ interval: 1_000, timeout: 500 })
    socket.bufferedAmount = 3_000_000
    vi.advanceTimersByTime(1_000) // the ping waits behind 3 MB
    for (const left of [2_000_000, 1_000_000, 0]) {
      socket.bufferedAmount = left
      vi.advanceTimersByTime(500)
      expect(connection.state.status).toBe('open')
    }
    socket.receive('pong') // the answer to the ping that waited behind the upload
    vi.advanceTimersByTime(400)
    expect(connection.state.status).toBe('open')
    expect(socket.terminated).toBe(false)
  })

  it('but a stalled send buffer with no answer is a dead link', () => {
    const { connection, socket } = open({ interval: 1_000, timeout: 500 })
    socket.bufferedAmount = 3_000_000
    vi.advanceTimersByTime(1_000 + 500 + 1)
    expect(connection.state.status).toBe('reconnecting')
    expect(socket.terminated).toBe(true)
  })
})

describe('the system clock stepping back', () => {
  it('an hour back while the server went quiet: the dead link is still found at ping + timeout, not an hour later', () => {
    const { connection, socket } = open({ interval: 1_000, timeout: 1_000 })
    vi.advanceTimersByTime(500)
    vi.setSystemTime(Date.now() - 3_600_000)
    vi.advanceTimersByTime(500 + 1_000 + 1)
    expect(socket.sent).toEqual(['ping'])
    expect(connection.state.status).toBe('reconnecting')
  })

  it("a queued message's ttl still runs out", () => {
    const connection = new Connection(URL, { WebSocket: FakeWebSocket, environment: env, heartbeat: false })
    connection.open()
    expect(connection.send('late', { ttl: 2_000 })).toBe('queued')
    vi.setSystemTime(Date.now() - 3_600_000)
    vi.advanceTimersByTime(3_000)
    const socket = FakeWebSocket.last.accept()
    expect(socket.sent).toEqual([])
    expect(connection.state).toMatchObject({ queued: 0, dropped: 1 })
  })

  it('a forward jump (a laptop waking up) still counts: the deadline passed, the next check declares the link dead', () => {
    const { connection } = open({ interval: 1_000, timeout: 1_000 })
    vi.advanceTimersByTime(1_001)
    vi.setSystemTime(Date.now() + 60_000)
    vi.advanceTimersByTime(1)
    expect(connection.state.status).toBe('open')
    vi.advanceTimersByTime(1_000)
    expect(connection.state.status).toBe('reconnecting')
  })
})

describe('rhythm', () => {
  it('pings every interval even when timeout > interval, and declares death at the first ping + timeout (point 15)', () => {
    const { connection, socket } = open({ interval: 1_000, timeout: 3_000 })
    vi.advanceTimersByTime(3_500)
    expect(socket.sent).toEqual(['ping', 'ping', 'ping'])
    expect(connection.state.status).toBe('open')
    vi.advanceTimersByTime(501)
    expect(connection.state.status).toBe('reconnecting')
  })

  it('keeps the interval while pongs come back', () => {
    const { connection, socket } = open({ interval: 1_000, timeout: 3_000 })
    for (let i = 1; i <= 5; i++) {
      vi.advanceTimersByTime(i === 1 ? 1_000 : 980)
      expect(socket.sent).toHaveLength(i)
      vi.advanceTimersByTime(20)
      socket.receive('pong')
    }
    expect(connection.state).toMatchObject({ status: 'open', latency: 20 })
  })
})

describe('user callbacks that throw (point 18)', () => {
  it('a throwing isPong is reported through error; the frame is delivered and the link kept', () => {
    const { connection, socket, messages, errors } = open({
      interval: 1_000,
      timeout: 500,
      isPong: () => {
        throw new Error('bad isPong')
      },
    })
    expect(() => socket.receive('{"a":1}')).not.toThrow()
    expect(messages).toEqual([{ a: 1 }])
    expect(errors[0]).toMatchObject({ kind: 'callback', message: expect.stringContaining('bad isPong') })
    expect(connection.state.status).toBe('open')
  })

  it('a throwing heartbeat message() is reported through error, never thrown from a timer', () => {
    const { connection, errors } = open({
      interval: 1_000,
      timeout: 500,
      message: () => {
        throw new Error('bad message')
      },
    })
    expect(() => vi.advanceTimersByTime(3_000)).not.toThrow()
    expect(errors[0]).toMatchObject({ kind: 'callback', message: expect.stringContaining('bad message') })
    expect(connection.state.status).toBe('open')
  })
})

describe('servers that answer pings in their own way (issue 8)', () => {
  it("an echo server's echo of our ping is a pong: never in messages, gives latency (point 8)", () => {
    const { connection, socket, messages } = open({ interval: 1_000, timeout: 500 })
    vi.advanceTimersByTime(1_000)
    vi.advanceTimersByTime(30)
    socket.receive('ping')
    expect(messages).toEqual([])
    expect(connection.state.latency).toBe(30)
    // A 'ping' the server sends on its own (none of ours outstanding) is data.
    socket.receive('ping')
    expect(messages).toEqual(['ping'])
  })

  it('a quiet server gets a development warning after the second timeout in a row, naming the fix (point 9)', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    const { connection } = open({ interval: 1_000, timeout: 500 })
    const closes: string[] = []
    connection.on('close', (info) => closes.push(info.reason))
    for (let link = 0; link < 3; link++) {
      vi.advanceTimersByTime(1_501) // a silent link: ping, deadline, verdict
      const before = FakeWebSocket.instances.length
      while (FakeWebSocket.instances.length === before) vi.advanceTimersByTime(50)
      FakeWebSocket.last.accept()
      if (link === 0) expect(warn).not.toHaveBeenCalled()
    }
    expect(closes).toEqual(['heartbeat timeout', 'heartbeat timeout', 'heartbeat timeout'])
    expect(warn).toHaveBeenCalledTimes(1)
    expect(warn.mock.calls[0][0]).toMatch(/heartbeat: false/)
    expect(warn.mock.calls[0][0]).toMatch(/isPong/)
  })

  it('no warning when the server answered pings before the link died', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    const { socket } = open({ interval: 1_000, timeout: 500 })
    let current = socket
    for (let link = 0; link < 3; link++) {
      vi.advanceTimersByTime(1_000)
      current.receive('pong')
      vi.advanceTimersByTime(1_501)
      const before = FakeWebSocket.instances.length
      while (FakeWebSocket.instances.length === before) vi.advanceTimersByTime(50)
      current = FakeWebSocket.last.accept()
    }
    expect(warn).not.toHaveBeenCalled()
  })
})

describe('per-frame cost (issue 11 a)', () => {
  it('a firehose reads the clock once per tick or check, not once per frame', () => {
    let reads = 0
    const now = env.now
    env.now = () => (reads++, now())
    const { connection, socket, messages } = open({ interval: 1_000, timeout: 500 })
    reads = 0
    for (let i = 0; i < 1_000; i++) socket.receive(`{"n":${i}}`)
    expect(messages).toHaveLength(1_000)
    expect(reads).toBeLessThanOrEqual(2)
    expect(connection.state.status).toBe('open')
  })

  it('frames before a sleep do not make the link look alive after it: a send waits for the probe', () => {
    const { connection, socket } = open({ interval: 1_000, timeout: 500 })
    vi.advanceTimersByTime(900)
    for (let i = 0; i < 100; i++) socket.receive('{"n":1}')
    // The laptop sleeps: the clock jumps, timers have not fired.
    vi.setSystemTime(Date.now() + 60_000)
    expect(connection.send('hello')).toBe('queued')
    expect(socket.sent).toEqual(['ping'])
    socket.receive('pong')
    expect(socket.sent).toEqual(['ping', 'hello'])
  })

  it('a steady stream between ticks keeps sends direct (no probe)', () => {
    const { connection, socket } = open({ interval: 1_000, timeout: 500 })
    for (let t = 0; t < 10_000; t += 100) {
      socket.receive('{"n":1}')
      if (socket.sent.at(-1) === 'ping') socket.receive('pong')
      vi.advanceTimersByTime(100)
      if (t % 700 === 0) expect(connection.send(`m${t}`)).toBe('sent')
    }
    expect(connection.state.status).toBe('open')
  })
})
