/**
 * `retryIn` (issue 8 point 12) under fake timers, and a user close from `onClose` (issue 14
 * point 2) against a real ws server.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { effectScope } from 'vue'
import { ConnectionManager } from '../../src/core'
import { useWebSocket } from '../../src/vue'
import { countingEnvironment } from '../core/counting'
import { FakeWebSocket } from '../core/fakeSocket'
import { waitFor } from '../support/wait'
import { startServer, testOptions } from './helpers'

afterEach(() => {
  vi.useRealTimers()
})

describe('retryIn', () => {
  it('counts whole seconds down to the next retry while reconnecting, else null, with one timer that is cleared', () => {
    vi.useFakeTimers()
    FakeWebSocket.reset()
    const env = countingEnvironment({ random: () => 0.5 })
    // Without jitter the first retry waits random × minDelay = 2.5 s.
    const manager = new ConnectionManager({ WebSocket: FakeWebSocket, environment: env, heartbeat: false, reconnect: { minDelay: 5_000, jitter: 0 } })
    const scope = effectScope()
    const ws = scope.run(() => useWebSocket('ws://127.0.0.1:1/', { manager }))!
    expect(ws.retryIn.value).toBeNull()
    FakeWebSocket.last.accept()
    expect(ws.retryIn.value).toBeNull()
    FakeWebSocket.last.serverClose(1006)
    expect(ws.status.value).toBe('reconnecting')
    expect(ws.retryIn.value).toBe(3)
    expect(env.timers).toBe(2) // the retry and the countdown
    vi.advanceTimersByTime(500)
    expect(ws.retryIn.value).toBe(2)
    vi.advanceTimersByTime(1_000)
    expect(ws.retryIn.value).toBe(1)
    vi.advanceTimersByTime(1_000)
    expect(ws.status.value).toBe('connecting')
    expect(ws.retryIn.value).toBeNull()
    FakeWebSocket.last.serverClose(1006)
    expect(ws.retryIn.value).not.toBeNull()
    scope.stop()
    manager.dispose()
    expect(ws.retryIn.value).toBeNull()
    expect(env.timers).toBe(0)
  })
})

describe('onClose', () => {
  it('close() from onClose sticks: no reconnect after the server drops the link (issue 14 point 2)', async () => {
    const server = await startServer()
    const env = countingEnvironment()
    const manager = new ConnectionManager({ ...testOptions, environment: env, reconnect: { minDelay: 10, maxDelay: 20 } })
    const scope = effectScope()
    const ws = scope.run(() => useWebSocket(server.url('/'), { manager, onClose: () => ws.close() }))!
    await waitFor(() => ws.status.value === 'open')
    for (const socket of server.accepted) socket.terminate()
    await waitFor(() => ws.status.value === 'closed')
    // Nothing left that could reopen it: no timer, no environment listener.
    expect(env.timers).toBe(0)
    expect(env.listeners).toBe(0)
    expect(server.accepted).toHaveLength(1)
    scope.stop()
    manager.dispose()
    await server.close()
  })
})
