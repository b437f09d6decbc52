import { getCurrentScope, onScopeDispose, shallowRef, triggerRef, type ShallowRef } from 'vue'

/**
 * When a list of inbound messages tells Vue it changed:
 * - `'frame'`: once per animation frame in a browser, so a firehose re-renders at most once
 *   per paint. Where frames stop (a hidden tab) a timer takes over; where there are no frames
 *   at all (Node, SSR, tests without a DOM), a microtask.
 * - `'microtask'`: once per microtask, i.e. after each WebSocket message event (each is a task
 *   of its own in a browser), so every message gets a render of its own.
 * - `'sync'`: on every message, before the next one is handled.
 *
 * `onMessage` callbacks run synchronously for every message in every mode.
 */
export type FlushMode = 'frame' | 'microtask' | 'sync'

/**
 * A bounded list of inbound messages as one reactive ref. Messages are collected as they come
 * and added to the array in place once per batch (see `FlushMode`), with one trigger: a firehose
 * costs a push or two per message, not an array copy, and one render per frame, not one per message.
 */
export interface MessageBuffer<T> {
  /** Newest last, at most `max` after each flush. */
  messages: ShallowRef<readonly T[]>
  push: (message: T) => void
  clear: () => void
}

export interface MessageBufferOptions<T> {
  /** @default 'frame' */
  flush?: FlushMode
  /** Runs after each batched trigger with the newest message of the batch (e.g. to publish it). */
  onFlush?: (newest: T) => void
}

/**
 * With `'frame'`, the longest a batch waits for an animation frame before a timer flushes it
 * anyway: frames stop in a hidden tab (and may stall in an occluded window), but watchers and
 * stores there still need their messages. Browsers throttle this timer to ~1 s in hidden tabs,
 * where nothing is painted; a visible page paints every ~16 ms, well before it fires.
 */
export const FRAME_FALLBACK_MS = 100

export function createMessageBuffer<T>(max: number, { flush: mode = 'frame', onFlush }: MessageBufferOptions<T> = {}): MessageBuffer<T> {
  const list: T[] = []
  const messages = shallowRef<readonly T[]>(list)
  // Messages since the last flush: `messages` changes only when it triggers, so what a reader
  // sees always matches what watchers and renders were told. A ring of at most `max` slots,
  // reused from batch to batch (a slot keeps its message until reused: at most `max` more):
  // under a firehose a fresh array per batch, and its regrowth, is garbage that every
  // scavenge pays for, next to the messages the app keeps.
  const pending: T[] = []
  /** Messages pushed since the last flush (the newest `max` of them are in `pending`). */
  let count = 0
  /** The slot the next message goes to. */
  let slot = 0
  /** The newest message when `max` is 0 (there is no ring to find it in). */
  let newest: T | undefined
  let scheduled = false
  let timer: ReturnType<typeof setTimeout> | undefined
  let frame: number | undefined

  /** Cancels a pending frame and timer (a pending microtask just finds nothing to do). */
  const cancel = (): void => {
    clearTimeout(timer)
    if (frame !== undefined) cancelAnimationFrame(frame)
    timer = frame = undefined
  }

  /** The newest message of the pending batch. */
  const newestPending = (): T => (max > 0 ? pending[slot === 0 ? max - 1 : slot - 1] : newest) as T

  const flush = (): void => {
    cancel()
    scheduled = false
    const keep = Math.min(max, count)
    const last = newestPending()
    // In place, with plain loops: the oldest `drop` leave from the front, the batch is written
    // after the rest. The length only grows (to `max`), so the array keeps its backing store;
    // `splice` built an array of what it removed per batch, `copyWithin` and a shorter `length`
    // cost more than the loops.
    const drop = Math.max(0, list.length + keep - max)
    const stay = list.length - drop
    if (drop > 0) for (let j = 0; j < stay; j++) list[j] = list[j + drop]
    // Oldest first: once the ring has wrapped, the oldest kept message is in the next slot.
    for (let i = count > max ? slot : 0, n = 0; n < keep; n++) {
      list[stay + n] = pending[i]
      if (++i === max) i = 0
    }
    count = slot = 0
    triggerRef(messages)
    onFlush?.(last)
  }

  // The pending frame or timer belongs to the scope that made the buffer.
  if (getCurrentScope()) onScopeDispose(cancel)

  return {
    messages,
    push(message) {
      if (max > 0) {
        pending[slot] = message
        if (++slot === max) slot = 0
        count++
      } else newest = message
      if (mode === 'sync') return flush()
      if (scheduled) return
      scheduled = true
      if (mode === 'frame' && typeof requestAnimationFrame === 'function') {
        // The next frame, or the timer if frames have stopped: whichever comes first flushes.
        timer = setTimeout(flush, FRAME_FALLBACK_MS)
        if (globalThis.document?.visibilityState !== 'hidden') frame = requestAnimationFrame(flush)
      } else {
        queueMicrotask(() => scheduled && flush())
      }
    },
    clear() {
      // The pending batch is dropped with the rest, but its newest message was received: report
      // it now (`data` stays the newest message), since the flush that would have is cancelled.
      const had = scheduled
      const last = had ? newestPending() : undefined
      cancel()
      scheduled = false
      list.length = pending.length = count = slot = 0
      triggerRef(messages)
      if (had) onFlush?.(last as T)
    },
  }
}
