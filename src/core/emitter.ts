type Listener<T> = (payload: T) => void

/**
 * The listeners of one event. `listeners` is replaced (never mutated) on every change, so a
 * dispatch walks the array it started with. A hot path keeps its channel and calls
 * `dispatch(channel, ...)`: no lookup by event name per call.
 */
export interface Channel<T> {
  readonly listeners: readonly Listener<T>[]
}

interface MutableChannel<T> {
  listeners: readonly Listener<T>[]
}

/**
 * A minimal typed event emitter. `on` returns the remover. A throwing listener never stops
 * the others: its error goes to `onListenerError` (the connection reports it as an `error`).
 *
 * Dispatch follows the DOM's `EventTarget`: a listener added twice runs once; a listener
 * removed while an event is being dispatched is not called for it; one added meanwhile waits
 * for the next event.
 */
export class Emitter<Events extends object> {
  // Arrays walked by index, not `Set`s: inbound frames are emitted one by one under a firehose,
  // and a `Set`'s iterator cost more per frame than everything else the connection does with it.
  readonly #channels: { [K in keyof Events]?: MutableChannel<Events[K]> } = {}
  readonly #onListenerError: (error: unknown, event: keyof Events) => void

  constructor(onListenerError: (error: unknown, event: keyof Events) => void) {
    this.#onListenerError = onListenerError
  }

  /** The channel of `event`: the same object for the emitter's whole life (`clear()` empties it). */
  channel<K extends keyof Events>(event: K): Channel<Events[K]> {
    return (this.#channels[event] ??= { listeners: [] })
  }

  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    const channel = this.channel(event) as MutableChannel<Events[K]>
    if (!channel.listeners.includes(listener)) channel.listeners = [...channel.listeners, listener]
    return () => {
      if (channel.listeners.includes(listener)) channel.listeners = channel.listeners.filter((l) => l !== listener)
    }
  }

  has(event: keyof Events): boolean {
    return (this.#channels[event]?.listeners.length ?? 0) > 0
  }

  emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    const channel = this.#channels[event]
    if (channel) this.dispatch(channel, event, payload)
  }

  /** `emit` through a channel kept by the caller (see `channel`). */
  dispatch<K extends keyof Events>(channel: Channel<Events[K]>, event: K, payload: Events[K]): void {
    const list = channel.listeners
    for (let i = 0; i < list.length; i++) {
      const listener = list[i]
      // The listeners changed during this dispatch (rare): skip whoever was removed meanwhile.
      if (channel.listeners !== list && !channel.listeners.includes(listener)) continue
      try {
        listener(payload)
      } catch (error) {
        this.#onListenerError(error, event)
      }
    }
  }

  /** Removes every listener (channels stay valid, empty). */
  clear(): void {
    for (const key in this.#channels) this.#channels[key]!.listeners = []
  }
}
