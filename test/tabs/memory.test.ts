/**
 * The in-memory tab of `createManualEnvironment` behaves as a browser tab does where the
 * model-based test of tab sharing (test/model/tabs.model.test.ts) needs it to: a paused tab's
 * timers and deliveries wait, in order, and a timer cleared meanwhile never runs.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createManualEnvironment, MemoryProfile } from '../../src/core'
import { Election } from '../../src/core/tabs/election'
import type { LockManagerLike } from '../../src/core/types'

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

describe('Election: the term a stolen lead must number above', () => {
  it("a steal reads the highest term its group's tabs hold (query()); a tab holds its last term's lock until its next term or end()", async () => {
    const profile = new MemoryProfile()
    const [one, two] = [createManualEnvironment({}, profile), createManualEnvironment({}, profile)]
    const seen: Array<[string, boolean, number]> = []
    const deposed: string[] = []
    const elect = (name: string, locks: LockManagerLike) =>
      new Election(locks, 'group', { elected: (stolen, above) => seen.push([name, stolen, above]), deposed: () => deposed.push(name) })
    const first = elect('one', one.tab.locks)
    const second = elect('two', two.tab.locks)
    first.join()
    await vi.advanceTimersByTimeAsync(5)
    expect(seen).toEqual([['one', false, 0]])
    first.holdTerm(1_700_000_000_003)
    // Another group's term, and a lock whose name only starts like one, are not this group's.
    void one.tab.locks.request('other term 1800000000000', {}, () => new Promise(() => {}))
    void one.tab.locks.request('group term x', {}, () => new Promise(() => {}))
    await vi.advanceTimersByTimeAsync(5)
    const held = async () => ((await profile.query()).held ?? []).map((lock) => lock.name).filter((name) => name.startsWith('group term 1'))
    expect(await held()).toEqual(['group term 1700000000003'])
    second.steal()
    await vi.advanceTimersByTimeAsync(5)
    expect(seen).toEqual([['one', false, 0], ['two', true, 1_700_000_000_003]])
    // Deposed at once (its page runs): it keeps its term's lock, since it may have spoken with that epoch just before.
    expect(deposed).toEqual(['one'])
    second.holdTerm(1_700_000_000_004)
    await vi.advanceTimersByTimeAsync(5)
    expect(await held()).toEqual(['group term 1700000000003', 'group term 1700000000004'])
    // Leaving the lead keeps it too; leaving the group (end) lets it go.
    second.leave()
    first.end()
    await vi.advanceTimersByTimeAsync(5)
    expect(await held()).toEqual(['group term 1700000000004'])
    second.end()
    await vi.advanceTimersByTimeAsync(5)
    expect(await held()).toEqual([])
  })

  it('without query() (an older LockManager) a steal numbers its term as before, above nothing it did not hear of', async () => {
    const profile = new MemoryProfile()
    const [one, two] = [createManualEnvironment({}, profile), createManualEnvironment({}, profile)]
    const seen: number[] = []
    const noQuery = (locks: LockManagerLike): LockManagerLike => ({ request: (name, options, callback) => locks.request(name, options, callback) })
    const first = new Election(noQuery(one.tab.locks), 'group', { elected: () => {}, deposed: () => {} })
    first.join()
    await vi.advanceTimersByTimeAsync(5)
    first.holdTerm(5)
    new Election(noQuery(two.tab.locks), 'group', { elected: (_stolen, above) => seen.push(above), deposed: () => {} }).steal()
    await vi.advanceTimersByTimeAsync(5)
    expect(seen).toEqual([0])
  })
})
