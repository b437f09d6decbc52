/** An in-memory MessageChannel for a SharedWorker made of `serveTabs()` and simulated tabs (see src/core/tabs/memory.ts). */
import { serveTabs, type ConnectionOptions, type ManualEnvironment, type MessagePortLike, type SharedWorkerLike, type SharedWorkerScopeLike } from '../../src/core'
import type { MemoryTab } from '../../src/core/tabs/memory'

/**
 * One end of an in-memory MessageChannel: a message is delivered as a task of the tab (or
 * worker) at the other end, held until that end has an `onmessage` (as a port starts on its
 * first listener). Closing an end disentangles both, with no event: nothing posted afterwards
 * arrives, nor does anything to the end that closed; what the closing end posted before still does.
 */
export class MemoryPort implements MessagePortLike {
  other!: MemoryPort
  #listener: MessagePortLike['onmessage'] = null
  readonly #early: unknown[] = []
  closed = false
  entangled = true

  constructor(readonly owner: MemoryTab) {}

  static pair(a: MemoryTab, b: MemoryTab): [MemoryPort, MemoryPort] {
    const [one, two] = [new MemoryPort(a), new MemoryPort(b)]
    one.other = two
    two.other = one
    return [one, two]
  }

  get onmessage(): MessagePortLike['onmessage'] {
    return this.#listener
  }

  set onmessage(listener: MessagePortLike['onmessage']) {
    this.#listener = listener
    for (const data of this.#early.splice(0)) this.#deliver(data)
  }

  postMessage(message: unknown): void {
    if (!this.entangled || this.owner.crashed) return
    const data = structuredClone(message)
    this.other.owner.task(() => this.other.#deliver(data))
  }

  #deliver(data: unknown): void {
    if (this.closed) return
    if (this.#listener) this.#listener({ data })
    else this.#early.push(data)
  }

  close(): void {
    this.closed = true
    this.entangled = this.other.entangled = false
  }
}

/**
 * A SharedWorker running `serveTabs(options)` as a page of its own (`options.environment`, a
 * manual environment of the tabs' profile): `create(tab)` is what `new SharedWorker(...)` does in
 * that tab (a port pair; the worker's `connect` event as a task of the worker).
 */
export function memoryWorker(options: ConnectionOptions & { environment: ManualEnvironment }): { create: (tab: MemoryTab) => SharedWorkerLike; stop: () => void } {
  let connect: (event: { ports: readonly MessagePortLike[] }) => void = () => {}
  const scope: SharedWorkerScopeLike = { addEventListener: (_type, listener) => (connect = listener), removeEventListener: () => {} }
  const stop = serveTabs(options, scope)
  const worker = options.environment.tab
  return {
    create(tab) {
      const [port, workerPort] = MemoryPort.pair(tab, worker)
      worker.task(() => connect({ ports: [workerPort] }))
      return { port }
    },
    stop,
  }
}
