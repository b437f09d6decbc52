// @vitest-environment happy-dom
import fc from 'fast-check'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { effectScope, watch, type EffectScope } from 'vue'
import { createMessageBuffer, FRAME_FALLBACK_MS, type FlushMode, type MessageBuffer } from '../../src/vue/messageBuffer'

let scope: EffectScope

/** A buffer made in a scope (as the composables make it) with a count of its reactive triggers and flush callbacks. */
function buffer(max: number, flush?: FlushMode) {
  let triggers = 0
  let flushes = 0
  let newest: number | undefined
  let made!: MessageBuffer<number>
  scope.run(() => {
    made = createMessageBuffer<number>(max, {
      flush,
      onFlush: (message) => {
        flushes++
        newest = message
      },
    })
    watch(made.messages, () => triggers++, { flush: 'sync' })
  })
  return { ...made, triggers: () => triggers, flushes: () => flushes, newest: () => newest }
}

function setVisibility(state: 'visible' | 'hidden'): void {
  Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => state })
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'requestAnimationFrame', 'cancelAnimationFrame', 'queueMicrotask'] })
  scope = effectScope()
  setVisibility('visible')
})
afterEach(() => {
  scope.stop()
  // Spies and stubs first: they saved the fake timers' functions, which useRealTimers then replaces.
  vi.restoreAllMocks()
  vi.unstubAllGlobals()
  vi.useRealTimers()
})

describe("flush: 'frame' (the default)", () => {
  it('turns a burst into one update at the next animation frame, with every message in it', () => {
    const b = buffer(1_000)
    for (let i = 0; i < 500; i++) b.push(i)
    vi.runAllTicks()
    // Nothing yet: not even a microtask later.
    expect(b.triggers()).toBe(0)
    expect(b.messages.value).toHaveLength(0)
    vi.advanceTimersToNextFrame()
    expect(b.triggers()).toBe(1)
    expect(b.flushes()).toBe(1)
    expect(b.messages.value).toEqual(Array.from({ length: 500 }, (_, i) => i))
    // The fallback timer was cancelled: no second update.
    vi.advanceTimersByTime(FRAME_FALLBACK_MS * 2)
    expect(b.triggers()).toBe(1)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('keeps the newest max across frames', () => {
    const b = buffer(3)
    for (let i = 0; i < 10; i++) b.push(i)
    vi.advanceTimersToNextFrame()
    expect(b.messages.value).toEqual([7, 8, 9])
    b.push(10)
    vi.advanceTimersToNextFrame()
    expect(b.messages.value).toEqual([8, 9, 10])
    expect(b.triggers()).toBe(2)
  })

  it('flushes on a timer in a hidden tab, where animation frames stop', () => {
    setVisibility('hidden')
    const raf = vi.spyOn(globalThis, 'requestAnimationFrame')
    const b = buffer(100)
    b.push(1)
    b.push(2)
    expect(raf).not.toHaveBeenCalled()
    vi.advanceTimersByTime(FRAME_FALLBACK_MS - 1)
    expect(b.triggers()).toBe(0)
    vi.advanceTimersByTime(1)
    expect(b.triggers()).toBe(1)
    expect(b.messages.value).toEqual([1, 2])
  })

  it('flushes on the timer if a requested frame never comes (the tab was hidden after it was asked for)', () => {
    vi.stubGlobal('requestAnimationFrame', () => 1)
    const cancelled = vi.fn()
    vi.stubGlobal('cancelAnimationFrame', cancelled)
    const b = buffer(100)
    b.push(1)
    vi.advanceTimersByTime(FRAME_FALLBACK_MS)
    expect(b.triggers()).toBe(1)
    expect(cancelled).toHaveBeenCalledWith(1)
  })

  it('falls back to a microtask where there are no animation frames (Node, SSR)', () => {
    vi.stubGlobal('requestAnimationFrame', undefined)
    const b = buffer(100)
    b.push(1)
    b.push(2)
    expect(b.triggers()).toBe(0)
    vi.runAllTicks()
    expect(b.triggers()).toBe(1)
    expect(b.messages.value).toEqual([1, 2])
  })

  it('leaves no frame or timer behind when its scope is disposed', () => {
    const b = buffer(100)
    b.push(1)
    expect(vi.getTimerCount()).toBeGreaterThan(0)
    scope.stop()
    expect(vi.getTimerCount()).toBe(0)
    vi.advanceTimersByTime(FRAME_FALLBACK_MS * 2)
    expect(b.flushes()).toBe(0)
  })
})

describe("flush: 'microtask'", () => {
  it('updates once after a synchronous burst, before any frame', () => {
    const b = buffer(100, 'microtask')
    for (let i = 0; i < 50; i++) b.push(i)
    expect(b.triggers()).toBe(0)
    vi.runAllTicks()
    expect(b.triggers()).toBe(1)
    expect(b.messages.value).toHaveLength(50)
    b.push(50)
    vi.runAllTicks()
    expect(b.triggers()).toBe(2)
    expect(b.messages.value.at(-1)).toBe(50)
  })
})

describe("flush: 'sync'", () => {
  it('updates on every message', () => {
    const b = buffer(2, 'sync')
    b.push(1)
    expect(b.messages.value).toEqual([1])
    b.push(2)
    b.push(3)
    expect(b.triggers()).toBe(3)
    expect(b.flushes()).toBe(3)
    expect(b.messages.value).toEqual([2, 3])
    expect(vi.getTimerCount()).toBe(0)
  })
})

describe('clear and bounds', () => {
  it('clear() empties what is shown and what is waiting for the next flush', () => {
    const b = buffer(100)
    b.push(1)
    vi.advanceTimersToNextFrame()
    b.push(2)
    b.clear()
    expect(b.messages.value).toEqual([])
    vi.advanceTimersToNextFrame()
    expect(b.messages.value).toEqual([])
  })

  // `data` of useWebSocket is the newest message received: clear() empties `messages`, not that.
  // A flush was still pending at the clear, and ran on the emptied ring: it reported undefined.
  it.each([
    ['frame', 100],
    ['microtask', 100],
    ['microtask', 0],
  ] as const)("clear() with a flush pending (%s, max %i) reports the newest message at once, and no flush follows", (mode, max) => {
    const b = buffer(max, mode)
    b.push(1)
    vi.advanceTimersToNextFrame()
    vi.runAllTicks()
    expect(b.flushes()).toBe(1)
    b.push(2)
    b.push(3)
    b.clear()
    expect(b.messages.value).toEqual([])
    expect(b.flushes()).toBe(2)
    expect(b.newest()).toBe(3)
    vi.advanceTimersToNextFrame()
    vi.advanceTimersByTime(FRAME_FALLBACK_MS)
    vi.runAllTicks()
    expect(b.flushes()).toBe(2)
    expect(b.newest()).toBe(3)
    expect(b.messages.value).toEqual([])
    // Nothing pending: clear() leaves the newest as it is.
    b.clear()
    expect(b.flushes()).toBe(2)
  })

  it('holds at most max between flushes, however large the burst', () => {
    const b = buffer(10)
    for (let i = 0; i < 100_000; i++) b.push(i)
    vi.advanceTimersToNextFrame()
    expect(b.messages.value).toEqual(Array.from({ length: 10 }, (_, i) => 99_990 + i))
  })

  it('keeps nothing with max 0, but still tells its flush callback the newest message', () => {
    const b = buffer(0, 'sync')
    b.push(1)
    expect(b.messages.value).toEqual([])
    expect(b.flushes()).toBe(1)
    expect(b.newest()).toBe(1)
  })
})

describe('the kept messages, against a model', () => {
  // The buffer reuses its pending slots (a ring of max) and moves or trims the shown list in
  // place: whatever the batch sizes, what is shown must be exactly the newest max in order.
  it('shows the newest max messages in arrival order after every flush, whatever the batch sizes, and reports the newest', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 12 }),
        fc.array(fc.oneof(fc.integer({ min: 0, max: 30 }), fc.constant(-1)), { maxLength: 20 }),
        (max, batches) => {
          scope.stop()
          scope = effectScope()
          const b = buffer(max, 'microtask')
          const model: number[] = []
          let next = 0
          for (const size of batches) {
            // -1: clear() between batches.
            if (size < 0) {
              b.clear()
              model.length = 0
              continue
            }
            for (let i = 0; i < size; i++) b.push(next++)
            // Nothing shows before the flush.
            expect(b.messages.value).toEqual(model.slice(-max || model.length))
            vi.runAllTicks()
            for (let i = next - size; i < next; i++) model.push(i)
            expect(b.messages.value).toEqual(max === 0 ? [] : model.slice(-max))
            // `data` of useWebSocket: the flush callback gets the batch's newest message.
            if (size > 0) expect(b.newest()).toBe(next - 1)
          }
        },
      ),
    )
  })
})
