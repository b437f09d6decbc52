/**
 * The in-memory tab of `createManualEnvironment` behaves as a browser tab does where the
 * model-based test of tab sharing (test/model/tabs.model.test.ts) needs it to: a paused tab's
 * timers and deliveries wait, in order, and a timer cleared meanwhile never runs.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createManualEnvironment } from '../../src/core'

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
})

describe('the in-memory tab (createManualEnvironment)', () => {
  it('a timer cleared while its tab is paused does not run when the tab resumes', async () => {
    const env = createManualEnvironment()
    const fired = vi.fn()
    env.tab.pause()
    const handle = env.setTimeout(fired, 10)
    await vi.advanceTimersByTimeAsync(20)
    env.clearTimeout(handle)
    env.tab.resume()
    await vi.advanceTimersByTimeAsync(20)
    expect(fired).not.toHaveBeenCalled()
  })

  it('after a pause, tasks run in the order they came: what the pause held first', async () => {
    const env = createManualEnvironment()
    const order: string[] = []
    env.tab.pause()
    env.tab.task(() => order.push('held'))
    await vi.advanceTimersByTimeAsync(1)
    env.tab.task(() => order.push('later'))
    env.tab.resume()
    expect(env.tab.waiting).toBe(1)
    await vi.advanceTimersByTimeAsync(5)
    expect(order).toEqual(['held', 'later'])
    expect(env.tab.waiting).toBe(0)
  })
})

describe('the in-memory tab keeps one task queue', () => {
  it('a task queued inside a timer callback still runs before one queued after it (fake timers fire a 0 ms timer set during a tick later)', async () => {
    const env = createManualEnvironment()
    const order: string[] = []
    setTimeout(() => env.tab.task(() => order.push('first')), 0)
    await vi.advanceTimersByTimeAsync(0)
    env.tab.task(() => order.push('second'))
    await vi.advanceTimersByTimeAsync(5)
    expect(order).toEqual(['first', 'second'])
  })
})
