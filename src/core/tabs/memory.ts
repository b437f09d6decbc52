/**
 * In-memory Web Locks and BroadcastChannel for one simulated browser profile, so that several
 * simulated tabs in one process (tests under fake timers, hosts without a DOM) can elect a
 * leader and talk. `createManualEnvironment` gives each tab its own view of a profile.
 *
 * Each tab runs its callbacks as tasks (`setTimeout(0)`, looked up at call time so fake timers
 * apply) that a paused tab holds until it resumes and a crashed tab never runs, as a browser
 * would with a page stopped in the debugger or a renderer that died.
 */
import type { BroadcastChannelLike, LockManagerLike, LockRequestOptions } from '../types'

interface LockRequest {
  tab: MemoryTab
  callback: (lock: unknown) => unknown
  resolve: (value: unknown) => void
  reject: (error: unknown) => void
  stolen: boolean
}

interface LockState {
  holder: LockRequest | null
  queue: LockRequest[]
}

function abortError(message: string): Error {
  const error = new Error(message)
  error.name = 'AbortError'
  return error
}

/** One browser profile: the locks and channels its tabs share. */
export class MemoryProfile {
  readonly #locks = new Map<string, LockState>()
  readonly #channels = new Map<string, Set<MemoryChannel>>()

  /** A new tab of this profile. */
  tab(): MemoryTab {
    return new MemoryTab(this)
  }

  /** @internal */
  request(tab: MemoryTab, name: string, options: LockRequestOptions, callback: (lock: unknown) => unknown): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (tab.crashed) return
      if (options.signal?.aborted) return reject(abortError('The request was aborted.'))
      const request: LockRequest = { tab, callback, resolve, reject, stolen: false }
      let state = this.#locks.get(name)
      if (!state) this.#locks.set(name, (state = { holder: null, queue: [] }))
      if (options.steal) {
        const holder = state.holder
        if (holder) {
          holder.stolen = true
          holder.tab.task(() => holder.reject(abortError('The lock was stolen.')))
        }
        return this.#grant(name, state, request)
      }
      state.queue.push(request)
      options.signal?.addEventListener(
        'abort',
        () => {
          const index = state.queue.indexOf(request)
          if (index === -1) return
          state.queue.splice(index, 1)
          tab.task(() => reject(abortError('The request was aborted.')))
        },
        { once: true },
      )
      this.#next(name, state)
    })
  }

  /** @internal The names of the locks held now (as `navigator.locks.query()` lists them). */
  query(): Promise<{ held: { name: string }[] }> {
    return Promise.resolve({ held: [...this.#locks].filter(([, state]) => state.holder).map(([name]) => ({ name })) })
  }

  /** @internal Everything a crashed tab held or waited for goes, silently. */
  forget(tab: MemoryTab): void {
    for (const [name, state] of this.#locks) {
      state.queue = state.queue.filter((request) => request.tab !== tab)
      if (state.holder?.tab === tab) state.holder = null
      this.#next(name, state)
    }
    for (const channels of this.#channels.values()) for (const channel of [...channels]) if (channel.tab === tab) channels.delete(channel)
  }

  /** @internal */
  open(channel: MemoryChannel): void {
    let set = this.#channels.get(channel.name)
    if (!set) this.#channels.set(channel.name, (set = new Set()))
    set.add(channel)
  }

  /** @internal */
  close(channel: MemoryChannel): void {
    this.#channels.get(channel.name)?.delete(channel)
  }

  /** @internal Each other open channel of that name gets its own copy, as a task of its tab. */
  broadcast(from: MemoryChannel, message: unknown): void {
    for (const channel of this.#channels.get(from.name) ?? []) {
      if (channel === from) continue
      const data = structuredClone(message)
      channel.tab.task(() => {
        if (!channel.closed) channel.onmessage?.({ data })
      })
    }
  }

  #grant(name: string, state: LockState, request: LockRequest): void {
    state.holder = request
    const release = (): void => {
      if (state.holder !== request) return
      state.holder = null
      this.#next(name, state)
    }
    request.tab.task(() => {
      let result: unknown
      try {
        result = request.callback({ name, mode: 'exclusive' })
      } catch (error) {
        if (!request.stolen) request.reject(error)
        return release()
      }
      Promise.resolve(result).then(
        (value) => {
          if (!request.stolen) request.resolve(value)
          release()
        },
        (error) => {
          if (!request.stolen) request.reject(error)
          release()
        },
      )
    })
  }

  #next(name: string, state: LockState): void {
    if (state.holder || state.queue.length === 0) return
    this.#grant(name, state, state.queue.shift()!)
  }
}

class MemoryChannel implements BroadcastChannelLike {
  onmessage: ((event: { data: unknown }) => void) | null = null
  closed = false

  constructor(
    readonly profile: MemoryProfile,
    readonly tab: MemoryTab,
    readonly name: string,
  ) {
    if (!tab.crashed) profile.open(this)
  }

  postMessage(message: unknown): void {
    if (this.closed) throw new Error(`InvalidStateError: the BroadcastChannel "${this.name}" is closed`)
    if (!this.tab.crashed) this.profile.broadcast(this, message)
  }

  close(): void {
    this.closed = true
    this.profile.close(this)
  }
}

/** One simulated tab: its locks and channels, and the controls a test drives. */
export class MemoryTab {
  /** The tab's `navigator.locks`. */
  readonly locks: LockManagerLike
  /** The tab's `BroadcastChannel` constructor. */
  readonly BroadcastChannel: new (name: string) => BroadcastChannelLike
  crashed = false
  paused = false
  readonly #held: Array<() => void> = []
  /** Tasks queued and not run yet (see `task`). */
  readonly #tasks: Array<() => void> = []

  constructor(readonly profile: MemoryProfile) {
    this.locks = { request: (name, options, callback) => profile.request(this, name, options, callback), query: () => profile.query() }
    const tab = this
    this.BroadcastChannel = class extends MemoryChannel {
      constructor(name: string) {
        super(profile, tab, name)
      }
    }
  }

  /** Tasks waiting to run: held by a pause, or not yet run since the tab resumed. */
  get waiting(): number {
    return this.#held.length
  }

  /** Runs `fn` now, or when the tab resumes (after what waited before it); never once it crashed. */
  run(fn: () => void): void {
    if (this.crashed) return
    // A page runs its tasks in the order they came: nothing overtakes what a pause held.
    if (this.paused || this.#held.length > 0) this.#held.push(fn)
    else fn()
  }

  /**
   * Runs `fn` as a task of this tab, after the tasks queued before it: one queue per tab, as a
   * browser keeps, whatever order the timer implementation fires equal timers in (fake timers
   * fire a 0 ms timer set during a tick after one set outside it).
   */
  task(fn: () => void): void {
    this.#tasks.push(fn)
    if (this.#tasks.length === 1) this.#nextTask()
  }

  /** The next queued task, as a macrotask of its own. */
  #nextTask(): void {
    setTimeout(() => {
      const fn = this.#tasks.shift()
      if (this.#tasks.length > 0) this.#nextTask()
      if (fn) this.run(fn)
    }, 0)
  }

  /** Stops running the tab's timers and deliveries (a page stopped in the debugger, or frozen). */
  pause(): void {
    this.paused = true
  }

  /** Runs what waited, in order, one task each, then carries on. */
  resume(): void {
    this.paused = false
    this.#runHeld()
  }

  /** The next held task, as a task of its own; what arrives meanwhile waits behind the rest. */
  #runHeld(): void {
    if (this.#held.length === 0) return
    setTimeout(() => {
      if (this.crashed || this.paused) return
      try {
        this.#held.shift()?.()
      } finally {
        this.#runHeld()
      }
    }, 0)
  }

  /** The renderer died: no more timers or deliveries; its locks are released and its channels gone, with no event. */
  crash(): void {
    this.crashed = true
    this.#held.length = 0
    this.#tasks.length = 0
    this.profile.forget(this)
  }
}
