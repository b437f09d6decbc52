/**
 * Regression tests of the connection's transitions under fake timers (issue 14, points 2,
 * 12, 17; issue 8, point 11): what a listener does sticks, a close handshake can be abandoned,
 * dispose() settles everything, and lastClose keeps the close of the last open link.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { Connection } from '../../src/core/connection'
import { ProtocolClient, protocolConnectionOptions, RealtimeProtocolError } from '../../src/core/protocolClient'
import { mergeOptions } from '../../src/core/manager'
import type { ConnectionOptions } from '../../src/core/types'
import { countingEnvironment, type CountingEnvironment } from './counting'
import { FakeWebSocket } from './fakeSocket'

const URL = 'ws://127.0.0.1:1/socket'
let env: CountingEnvironment

function connect(options: ConnectionOptions = {}): Connection {
  return new Connection(URL, { WebSocket: FakeWebSocket, environment: env, ...options })
}

beforeEach(() => {
  vi.useFakeTimers()
  FakeWebSocket.reset()
  env = countingEnvironment({ random: () => 0.5 })
})
afterEach(() => {
  vi.useRealTimers()
})

describe('a listener that closes or reconnects (issue 14 point 2)', () => {
  it('close() from a close listener sticks: no retry, no socket, no timer, no environment listener', () => {
    const connection = connect()
    connection.on('close', () => connection.close())
    connection.open()
    FakeWebSocket.last.accept().serverClose(1006)
    expect(connection.state.status).toBe('closed')
    expect(env.timers).toBe(0)
    expect(env.listeners).toBe(0)
    vi.advanceTimersByTime(60_000)
    env.emit({ type: 'offline' })
    env.emit({ type: 'online' })
    expect(FakeWebSocket.instances).toHaveLength(1)
    expect(connection.state.status).toBe('closed')
  })

  it('close() from an error listener sticks (heartbeat timeout)', () => {
    const connection = connect({ heartbeat: { interval: 1_000, timeout: 500 } })
    connection.on('error', (error) => error.kind === 'heartbeat-timeout' && connection.close())
    connection.open()
    FakeWebSocket.last.accept()
    vi.advanceTimersByTime(1_501)
    expect(connection.state.status).toBe('closed')
    vi.advanceTimersByTime(60_000)
    expect(FakeWebSocket.instances).toHaveLength(1)
    expect(env.timers).toBe(0)
    expect(env.listeners).toBe(0)
  })

  it('reconnect() from a close listener opens one socket that no stale retry terminates later', () => {
    const connection = connect({ heartbeat: false })
    let once = true
    connection.on('close', () => {
      if (once) connection.reconnect()
      once = false
    })
    connection.open()
    FakeWebSocket.last.accept().serverClose(1006)
    expect(FakeWebSocket.instances).toHaveLength(2)
    const second = FakeWebSocket.last.accept()
    vi.advanceTimersByTime(60_000)
    expect(second.terminated).toBe(false)
    expect(FakeWebSocket.instances).toHaveLength(2)
    expect(connection.state.status).toBe('open')
  })

  it('close() from shouldReconnect sticks', () => {
    const connection = connect({
      reconnect: {
        shouldReconnect: () => {
          connection.close()
          return true
        },
      },
    })
    connection.open()
    FakeWebSocket.last.accept().serverClose(1006)
    vi.advanceTimersByTime(60_000)
    expect(connection.state.status).toBe('closed')
    expect(FakeWebSocket.instances).toHaveLength(1)
  })
})

describe('reopening during a close handshake (issue 14 point 12)', () => {
  it('open() while offline during closing waits in offline, and online reconnects', () => {
    const connection = connect()
    connection.open()
    FakeWebSocket.last.accept()
    connection.close()
    expect(connection.state.status).toBe('closing')
    env.emit({ type: 'offline' })
    connection.open()
    expect(connection.state.status).toBe('offline')
    vi.advanceTimersByTime(5_000) // past the close grace period
    expect(connection.state.status).toBe('offline')
    env.emit({ type: 'online' })
    expect(connection.state.status).toBe('connecting')
    expect(FakeWebSocket.instances).toHaveLength(2)
  })

  it('open() online during closing replaces the closing socket at once', () => {
    const connection = connect()
    connection.open()
    const first = FakeWebSocket.last.accept()
    connection.close()
    connection.open()
    expect(first.terminated).toBe(true)
    FakeWebSocket.last.accept()
    vi.advanceTimersByTime(5_000)
    expect(connection.state.status).toBe('open')
  })
})

describe('dispose() (issue 14 point 17)', () => {
  it('ends an open connection in closed at once, and pending protocol calls settle', async () => {
    const connection = new Connection(URL, mergeOptions(protocolConnectionOptions, { WebSocket: FakeWebSocket, environment: env }))
    const protocol = ProtocolClient.for(connection)
    connection.open()
    const socket = FakeWebSocket.last.accept()
    const publish = protocol.publish('room:1', 'hello', { timeout: 60_000 })
    expect(socket.sent).toHaveLength(1)
    const closes: number[] = []
    connection.on('close', (info) => closes.push(info.code))
    connection.dispose()
    expect(connection.state.status).toBe('closed')
    expect(closes).toEqual([1000])
    expect(socket.closedWith?.code).toBe(1000)
    await expect(publish).rejects.toBeInstanceOf(RealtimeProtocolError)
    expect(env.timers).toBe(0)
    expect(env.listeners).toBe(0)
  })

  it('counts what was still queued as dropped, and reopens nothing afterwards', () => {
    const connection = connect()
    connection.open()
    expect(connection.send('a')).toBe('queued')
    const errors: string[] = []
    connection.on('error', (error) => errors.push(error.kind))
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    connection.dispose()
    expect(connection.state).toMatchObject({ status: 'closed', queued: 0, dropped: 1 })
    expect(errors).toEqual(['dropped'])
    connection.open()
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('disposed'))
    warn.mockRestore()
    expect(FakeWebSocket.instances).toHaveLength(1)
  })
})

describe('lastClose and error (issue 8 point 11)', () => {
  it('keeps the close that ended the open link while refused retries go to error', () => {
    const connection = connect()
    connection.open()
    FakeWebSocket.last.accept().serverClose(1012, 'restart')
    for (let i = 0; i < 3; i++) {
      const before = FakeWebSocket.instances.length
      while (FakeWebSocket.instances.length === before) vi.advanceTimersByTime(100)
      FakeWebSocket.last.serverClose(1006)
      expect(connection.state.lastClose).toMatchObject({ code: 1012, reason: 'restart', name: 'Service Restart' })
      expect(connection.state.error).toMatchObject({ kind: 'socket', message: expect.stringContaining('Could not connect') })
    }
    expect(FakeWebSocket.instances).toHaveLength(4)
  })

  it('an offline event during retries keeps lastClose', () => {
    const connection = connect()
    connection.open()
    FakeWebSocket.last.accept().serverClose(1012)
    env.emit({ type: 'offline' })
    expect(connection.state).toMatchObject({ status: 'offline', lastClose: { code: 1012 } })
  })
})

describe('volatile messages (issue 14 point 1)', () => {
  it('are counted in dropped whenever they are not written', () => {
    const connection = connect({ heartbeat: { interval: 1_000, timeout: 500 } })
    expect(connection.send('cursor', { volatile: true })).toBe('dropped')
    connection.open()
    const socket = FakeWebSocket.last.accept()
    socket.bufferedAmount = 10_000_000
    expect(connection.send('cursor', { volatile: true })).toBe('dropped')
    socket.bufferedAmount = 0
    vi.setSystemTime(Date.now() + 40_000)
    expect(connection.send('cursor', { volatile: true })).toBe('dropped')
    expect(connection.state.dropped).toBe(3)
  })
})

describe('counterexamples found by the model-based test', () => {
  it('a close listener that reconnects cannot bring a disposed connection back', () => {
    const connection = connect()
    connection.on('close', () => connection.reconnect())
    connection.open()
    vi.spyOn(console, 'warn').mockImplementation(() => {})
    connection.dispose()
    expect(connection.state.status).toBe('closed')
    expect(FakeWebSocket.instances).toHaveLength(1)
    expect(env.timers).toBe(0)
    expect(env.listeners).toBe(0)
  })
})
