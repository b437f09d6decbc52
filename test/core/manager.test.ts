/**
 * Manager regressions (issue 14 points 8, 9, 12): queued messages are never discarded
 * silently by idleTimeout; closeAll() orphans nothing a consumer holds; acquire() reopens a
 * closing connection.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import WebSocket from 'ws'
import { ConnectionManager } from '../../src/core/manager'
import type { WebSocketConstructor } from '../../src/core/types'
import { TestServer } from '../support/pingServer'
import { waitFor } from '../support/wait'
import { countingEnvironment, type CountingEnvironment } from './counting'
import { FakeWebSocket } from './fakeSocket'

const URL = 'ws://127.0.0.1:1/socket'

describe('ConnectionManager under fake timers', () => {
  let env: CountingEnvironment
  let manager: ConnectionManager
  beforeEach(() => {
    vi.useFakeTimers()
    FakeWebSocket.reset()
    env = countingEnvironment({ random: () => 0.5 })
    manager = new ConnectionManager({ WebSocket: FakeWebSocket, environment: env, heartbeat: false, idleTimeout: 1_000 })
  })
  afterEach(() => {
    manager.dispose()
    vi.useRealTimers()
    vi.restoreAllMocks()
  })

  it('counts and reports messages still queued when idleTimeout closes the connection (point 8)', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    const connection = manager.acquire(URL)
    expect(connection.send({ n: 1 })).toBe('queued')
    expect(connection.send({ n: 2 })).toBe('queued')
    const errors: string[] = []
    connection.on('error', (error) => errors.push(error.kind))
    manager.release(connection)
    vi.advanceTimersByTime(1_000)
    expect(manager.connections.size).toBe(0)
    expect(connection.state).toMatchObject({ status: 'closed', queued: 0, dropped: 2 })
    expect(errors).toContain('dropped')
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/2 message\(s\) still queued/))
    expect(env.timers).toBe(0)
    expect(env.listeners).toBe(0)
  })

  it('reopens a connection acquired during its close handshake (point 12)', () => {
    const first = manager.acquire(URL)
    FakeWebSocket.last.accept()
    first.close()
    expect(first.status).toBe('closing')
    const again = manager.acquire(URL)
    expect(again).toBe(first)
    expect(again.status).toBe('connecting')
    FakeWebSocket.last.accept()
    vi.advanceTimersByTime(5_000)
    expect(again.status).toBe('open')
  })

  it('after closeAll() a held connection stays the one for its URL, and its release leaves nothing (point 9)', () => {
    const held = manager.acquire(URL)
    FakeWebSocket.last.accept()
    manager.closeAll()
    expect(held.status).toBe('closing')
    FakeWebSocket.last.finishClose()
    held.reconnect() // the mounted consumer's reconnect button
    expect(manager.acquire(URL)).toBe(held)
    FakeWebSocket.last.accept()
    const live = FakeWebSocket.instances.filter((s) => s.readyState < 2 && !s.terminated)
    expect(live).toHaveLength(1)
    manager.release(held)
    manager.release(held)
    vi.advanceTimersByTime(1_000)
    expect(manager.connections.size).toBe(0)
    expect(held.status).toBe('closed')
    vi.advanceTimersByTime(60_000)
    expect(FakeWebSocket.instances.filter((s) => s.readyState < 2 && !s.terminated)).toHaveLength(0)
    expect(env.timers).toBe(0)
    expect(env.listeners).toBe(0)
  })

  it('forgets a closed connection at once when its last consumer leaves', () => {
    const connection = manager.acquire(URL)
    connection.close()
    manager.release(connection)
    expect(manager.connections.size).toBe(0)
    expect(env.timers).toBe(0)
  })
})

describe('ConnectionManager against a real ws server', () => {
  const cleanups: (() => unknown)[] = []
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })

  it('closeAll() with a mounted consumer, then its reconnect() and a new acquirer: one socket, closed after both leave (point 9)', async () => {
    const server = await new TestServer().start()
    cleanups.push(() => server.stop())
    const manager = new ConnectionManager({ WebSocket: WebSocket as unknown as WebSocketConstructor, heartbeat: false, idleTimeout: 50 })
    cleanups.push(() => manager.dispose())
    const held = manager.acquire(server.url)
    await waitFor(() => held.status === 'open' && server.sockets.size === 1)
    manager.closeAll() // app.unmount() while a component still holds the connection
    await waitFor(() => held.status === 'closed' && server.sockets.size === 0)
    held.reconnect()
    const other = manager.acquire(server.url)
    await waitFor(() => other.status === 'open' && held.status === 'open')
    expect(server.sockets.size).toBe(1)
    manager.release(held)
    manager.release(other)
    await waitFor(() => server.sockets.size === 0 && manager.connections.size === 0, { message: 'the socket closed after the last release' })
    expect(server.tcpConnections).toBe(2)
  })
})
