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

/** An in-memory SharedWorker (see `memoryWorker`). */
export interface MemoryWorker {
  /** What `new SharedWorker(...)` does in `tab`: a port of the running worker, or of a new one if none runs (the last was killed). */
  create(tab: MemoryTab): SharedWorkerLike
  /**
   * The browser ends the worker (its process crashed or was killed): its page crashes (no more
   * tasks or timers, its locks and lock requests gone) and its ports go silent, with no event
   * for the tabs. The next `create` starts a new worker.
   */
  kill(): void
  /** Stops serving (the running worker, and nothing after it). */
  stop(): void
  /** The running worker's environment; null after a kill until a tab creates the worker again. */
  readonly environment: ManualEnvironment | null
  /** How many workers were started. */
  readonly started: number
  /** Ports that live tabs still hold open to a killed worker (tabs that have not noticed yet). */
  stale(): number
}

/**
 * A SharedWorker running `serveTabs(options)` as a page of its own, with the environment
 * `environment()` makes (a manual environment of the tabs' profile; a new one for each worker
 * started): `create(tab)` is what `new SharedWorker(...)` does in that tab (a port pair; the
 * worker's `connect` event as a task of the worker).
 */
export function memoryWorker(options: ConnectionOptions, environment: () => ManualEnvironment): MemoryWorker {
  interface Running {
    env: ManualEnvironment
    connect: (event: { ports: readonly MessagePortLike[] }) => void
    stop: () => void
    ports: MemoryPort[]
  }
  let running: Running | null = null
  let started = 0
  let stopped = false
  const dead: Running[] = []
  const start = (): Running => {
    const env = environment()
    const worker: Running = { env, connect: () => {}, stop: () => {}, ports: [] }
    const scope: SharedWorkerScopeLike = { addEventListener: (_type, listener) => (worker.connect = listener), removeEventListener: () => {} }
    worker.stop = serveTabs({ ...options, environment: env }, scope)
    started++
    return worker
  }
  return {
    create(tab) {
      const worker = (running ??= start())
      const [port, workerPort] = MemoryPort.pair(tab, worker.env.tab)
      worker.ports.push(port)
      worker.env.tab.task(() => worker.connect({ ports: [workerPort] }))
      return { port }
    },
    kill() {
      if (!running) return
      running.env.tab.crash()
      dead.push(running)
      running = null
    },
    stop() {
      if (stopped) return
      stopped = true
      running?.stop()
    },
    get environment() {
      return running?.env ?? null
    },
    get started() {
      return started
    },
    stale: () => dead.reduce((n, worker) => n + worker.ports.filter((port) => !port.closed && !port.owner.crashed).length, 0),
  }
}
