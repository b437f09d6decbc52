import { shallowRef, triggerRef, type ShallowRef } from 'vue'

/**
 * A bounded list of inbound messages as one reactive ref. The array is mutated in place and
 * triggered once per microtask, so a firehose costs one push per message, not one array copy.
 */
export interface MessageBuffer<T> {
  /** Newest last, at most `max` after each flush. */
  messages: ShallowRef<readonly T[]>
  push: (message: T) => void
  clear: () => void
}

/** @param onFlush runs after each batched trigger (e.g. to publish the last message). */
export function createMessageBuffer<T>(max: number, onFlush?: () => void): MessageBuffer<T> {
  const buffer: T[] = []
  const messages = shallowRef<readonly T[]>(buffer)
  let scheduled = false

  const flush = (): void => {
    scheduled = false
    if (buffer.length > max) buffer.splice(0, buffer.length - max)
    triggerRef(messages)
    onFlush?.()
  }

  return {
    messages,
    push(message) {
      if (max > 0) {
        buffer.push(message)
        // Bound memory even if a huge synchronous batch arrives before the next flush.
        if (buffer.length > 2 * max) buffer.splice(0, buffer.length - max)
      }
      if (!scheduled) {
        scheduled = true
        queueMicrotask(flush)
      }
    },
    clear() {
      buffer.length = 0
      triggerRef(messages)
    },
  }
}
