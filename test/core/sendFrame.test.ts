/**
 * `Connection.sendFrame`, the primitive a protocol layer resends with (issue 14 point 1): a
 * frame is written once on the socket in hand (after the probe or the drain if need be), or
 * reported as not written when that socket is lost first. Fake timers here; the protocol
 * client's use of it is proven against the real server below.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import WebSocket from 'ws'
import { Connection } from '../../src/core/connection'
import { mergeOptions } from '../../src/core/manager'
import { ProtocolClient, protocolConnectionOptions } from '../../src/core/protocolClient'
import type { ConnectionOptions, WebSocketConstructor } from '../../src/core/types'
import { createRealtimeServer } from '../../src/server'
import { waitFor } from '../support/wait'
import { countingEnvironment, type CountingEnvironment } from './counting'
import { FakeWebSocket } from './fakeSocket'

const URL = 'ws://127.0.0.1:1/socket'
const heartbeat = { interval: 1_000, timeout: 500 }

describe('sendFrame under fake timers', () => {
  let env: CountingEnvironment
  beforeEach(() => {
    vi.useFakeTimers()
    FakeWebSocket.reset()
    env = countingEnvironment({ random: () => 0.5 })
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  function open(options: ConnectionOptions = {}) {
    const connection = new Connection(URL, { WebSocket: FakeWebSocket, environment: env, heartbeat, ...options })
    connection.open()
    return { connection, socket: FakeWebSocket.last.accept() }
  }

  it('writes at once on a healthy link and says so synchronously', () => {
    const { socket, connection } = open()
    const outcomes: boolean[] = []
    expect(connection.sendFrame('f1', (w) => outcomes.push(w))).toBe('sent')
    expect(outcomes).toEqual([true])
    expect(socket.sent).toEqual(['f1'])
  })

  it('on a suspect link (clock jumped) waits for the probe, then is written once', () => {
    const { socket, connection } = open()
    vi.setSystemTime(Date.now() + 40_000)
    const outcomes: boolean[] = []
    expect(connection.sendFrame('f1', (w) => outcomes.push(w))).toBe('queued')
    expect(socket.sent).toEqual(['ping'])
    expect(outcomes).toEqual([])
    socket.receive('pong')
    expect(socket.sent).toEqual(['ping', 'f1'])
    expect(outcomes).toEqual([true])
    vi.advanceTimersByTime(200)
    expect(socket.sent.filter((f) => f === 'f1')).toHaveLength(1)
    // Reading `state` brings the counters up to date, whether or not their fold has published.
    expect(connection.state.sent).toBe(1)
  })

  it('waits for the drain when bufferedAmount is above the high-water mark', () => {
    const { socket, connection } = open({ heartbeat: false })
    socket.bufferedAmount = 10_000_000
    const outcomes: boolean[] = []
    expect(connection.sendFrame('f1', (w) => outcomes.push(w))).toBe('queued')
    vi.advanceTimersByTime(500)
    expect(outcomes).toEqual([])
    socket.bufferedAmount = 0
    vi.advanceTimersByTime(100)
    expect(socket.sent).toEqual(['f1'])
    expect(outcomes).toEqual([true])
  })

  it('is reported unwritten when the socket is lost first, and never reaches the next socket', () => {
    const { socket, connection } = open()
    vi.setSystemTime(Date.now() + 40_000)
    const outcomes: boolean[] = []
    connection.sendFrame('f1', (w) => outcomes.push(w))
    vi.advanceTimersByTime(502) // the probe's deadline, and its verdict
    expect(socket.terminated).toBe(true)
    expect(outcomes).toEqual([false])
    vi.advanceTimersByTime(1_000)
    const next = FakeWebSocket.last.accept()
    expect(next).not.toBe(socket)
    expect(next.sent).toEqual([])
    expect(socket.sent).toEqual(['ping'])
  })

  it('is reported unwritten on close(), reconnect() and dispose(), and when nothing is open', () => {
    const outcomes: string[] = []
    const { socket, connection } = open({ heartbeat: false })
    socket.bufferedAmount = 10_000_000
    connection.sendFrame('a', (w) => outcomes.push(`a:${w}`))
    connection.reconnect()
    const second = FakeWebSocket.last.accept()
    second.bufferedAmount = 10_000_000
    connection.sendFrame('b', (w) => outcomes.push(`b:${w}`))
    connection.close()
    expect(connection.sendFrame('c', (w) => outcomes.push(`c:${w}`))).toBe('dropped')
    expect(outcomes).toEqual(['a:false', 'b:false', 'c:false'])
    expect(connection.state.dropped).toBe(0) // the caller owns frames: not the queue's drops
  })
})

describe('ProtocolClient against the real server', () => {
  const cleanups: (() => unknown)[] = []
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })

  it('a publish after the clock moved 40 s ahead on an open link is written once after the probe is answered, and resolves', async () => {
    const server = createRealtimeServer({ port: 0, host: '127.0.0.1' })
    await server.ready
    cleanups.push(() => server.close({ timeout: 200 }))
    let skew = 0
    const connection = new Connection(
      server.url,
      mergeOptions(protocolConnectionOptions, {
        WebSocket: WebSocket as unknown as WebSocketConstructor,
        environment: { now: () => Date.now() + skew },
      }),
    )
    cleanups.push(() => connection.dispose())
    const protocol = ProtocolClient.for(connection)
    const out: string[] = []
    connection.on('frameOut', ({ data }) => out.push(String(data)))
    connection.open()
    await waitFor(() => protocol.clientId !== null)
    skew = 40_000 // a laptop wakes up: the wall clock moved, the socket is still open
    const ack = await protocol.publish('room:1', { n: 1 }, { timeout: 5_000 })
    expect(ack).toMatchObject({ type: 'ack' })
    const kinds = out.map((frame) => JSON.parse(frame).type as string)
    expect(kinds).toEqual(['ping', 'publish'])
    expect(connection.state.status).toBe('open')
  })
})
