/**
 * A minimal typed event emitter. `on` returns the remover. A throwing listener never stops
 * the others: its error goes to `onListenerError` (the connection reports it as an `error`).
 */
export class Emitter<Events extends object> {
  #listeners: { [K in keyof Events]?: Set<(payload: Events[K]) => void> } = {}
  readonly #onListenerError: (error: unknown, event: keyof Events) => void

  constructor(onListenerError: (error: unknown, event: keyof Events) => void) {
    this.#onListenerError = onListenerError
  }

  on<K extends keyof Events>(event: K, listener: (payload: Events[K]) => void): () => void {
    const set = (this.#listeners[event] ??= new Set())
    set.add(listener)
    return () => {
      set.delete(listener)
    }
  }

  has(event: keyof Events): boolean {
    return !!this.#listeners[event]?.size
  }

  emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    for (const listener of this.#listeners[event] ?? []) {
      try {
        listener(payload)
      } catch (error) {
        this.#onListenerError(error, event)
      }
    }
  }

  clear(): void {
    this.#listeners = {}
  }
}
