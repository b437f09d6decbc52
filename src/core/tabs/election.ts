/**
 * Leader election with Web Locks: every tab of a group waits for one exclusive lock; the
 * holder leads. The browser releases the lock when the holder's page closes or crashes, and
 * hands it to the next waiter, so a hand-over needs no timer. A lock proves that a tab exists,
 * not that it runs, hence `steal()` for a leader that stopped answering (see `LeaderWatch`).
 */
import type { LockManagerLike } from '../types'

export interface ElectionHooks {
  /** This tab holds the lock now (`stolen`: it took it from a silent leader). */
  elected(stolen: boolean): void
  /** The lock this tab held was stolen by another tab. */
  deposed(): void
}

export class Election {
  readonly #locks: LockManagerLike
  readonly #name: string
  readonly #hooks: ElectionHooks
  /** Bumped by every request and every leave: a callback of an older request does nothing. */
  #term = 0
  #abort: AbortController | null = null
  /** Releases the held lock; set while this tab holds it. */
  #release: (() => void) | null = null

  constructor(locks: LockManagerLike, name: string, hooks: ElectionHooks) {
    this.#locks = locks
    this.#name = name
    this.#hooks = hooks
  }

  get leading(): boolean {
    return this.#release !== null
  }

  /** Waits in line for the lock (no-op while waiting or holding). */
  join(): void {
    if (this.#abort || this.#release) return
    this.#request(false)
  }

  /** Takes the lock now, from whoever holds it. */
  steal(): void {
    this.leave()
    this.#request(true)
  }

  /** Gives the lock up, or stops waiting for it. */
  leave(): void {
    this.#term++
    this.#abort?.abort()
    this.#abort = null
    this.#release?.()
    this.#release = null
  }

  #request(steal: boolean): void {
    const term = ++this.#term
    // The Web Locks API refuses a signal together with `steal`; a steal is granted at once anyway.
    const abort = steal ? null : new AbortController()
    this.#abort = abort
    this.#locks
      .request(this.#name, abort ? { signal: abort.signal } : { steal: true }, () => {
        // Left before the grant: returning at once releases the lock to the next in line.
        if (term !== this.#term) return
        this.#abort = null
        return new Promise<void>((resolve) => {
          this.#release = resolve
          this.#hooks.elected(steal)
        })
      })
      .catch(() => {
        // An aborted wait (our own leave) or a stolen lock: only the latter concerns the current term.
        if (term !== this.#term || !this.#release) return
        this.#release()
        this.#release = null
        this.#hooks.deposed()
      })
  }
}
