/**
 * A minimal typed event emitter. `on` returns the remover. A throwing listener never stops
 * the others: its error goes to `onListenerError` (the connection reports it as an `error`).
 */
export class Emitter<Events extends object> {
  private listeners: { [K in keyof Events]?: Set<(payload: Events[K]) => void> } = {}

  constructor(private readonly onListenerError: (error: unknown, event: keyof Events) => void) {}

  on<K extends keyof Events>(event: K, listener: (payload: Events[K]) => void): () => void {
    let set = this.listeners[event]
    if (!set) set = this.listeners[event] = new Set()
    set.add(listener)
    return () => {
      set.delete(listener)
    }
  }

  has(event: keyof Events): boolean {
    return (this.listeners[event]?.size ?? 0) > 0
  }

  emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    const set = this.listeners[event]
    if (!set || set.size === 0) return
    for (const listener of set) {
      try {
        listener(payload)
      } catch (error) {
        this.onListenerError(error, event)
      }
    }
  }

  clear(): void {
    this.listeners = {}
  }
}
