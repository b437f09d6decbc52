/**
 * Leader election with Web Locks: every tab of a group waits for one exclusive lock; the
 * holder leads. The browser releases the lock when the holder's page closes or crashes, and
 * hands it to the next waiter, so a hand-over needs no timer. A lock proves that a tab exists,
 * not that it runs, hence `steal()` for a leader that stopped answering (see `LeaderWatch`).
 * A leader also holds a lock named after its term (`holdTerm`): a tab that steals reads it, so
 * its own term is numbered above the one it ended.
 */
import type { LockManagerLike } from '../types'

/** Between the group's lock name and a term's epoch in the name of the lock that term holds. */
const TERM = ' term '

export interface ElectionHooks {
  /**
   * This tab holds the lock now (`stolen`: it took it from a silent leader). `above`: the
   * highest term a leader still holds (see `holdTerm`), which the new term must number above; 0
   * when none is known.
   */
  elected(stolen: boolean, above: number): void
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
  /** Releases the lock that names this tab's term; set while it leads. */
  #releaseTerm: (() => void) | null = null

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

  /** Gives the lock up, or stops waiting for it (the lock of this tab's last term is kept: see `holdTerm`). */
  leave(): void {
    this.#term++
    this.#abort?.abort()
    this.#abort = null
    this.#release?.()
    this.#release = null
  }

  /** Leaves the group: `leave()`, and the lock of this tab's last term goes too. */
  end(): void {
    this.leave()
    this.#releaseTerm?.()
    this.#releaseTerm = null
  }

  /**
   * Holds a second lock named after this tab's term's epoch, from its election until its next
   * term or `end()`, so that a tab that steals the lead can read it (`query()`) and number its
   * own term above it, whether the leader it robs is stopped or finds itself deposed at once
   * (then it may have spoken with that epoch just before). A tab that crashed has let it go,
   * and then nothing of its term can reach the tabs any more.
   */
  holdTerm(epoch: number): void {
    this.#releaseTerm?.()
    this.#releaseTerm = null
    if (!this.#release || !this.#locks.query) return
    let release: (() => void) | undefined
    let gone = false
    this.#releaseTerm = () => {
      gone = true
      release?.()
    }
    this.#locks
      .request(`${this.#name}${TERM}${epoch}`, {}, () =>
        gone
          ? undefined
          : new Promise<void>((resolve) => {
              release = resolve
            }),
      )
      .catch(() => {})
  }

  /** The highest term epoch that a leader of this group holds now (0: none, or no `query()`). */
  async #heldTerm(): Promise<number> {
    const prefix = `${this.#name}${TERM}`
    let highest = 0
    try {
      for (const { name } of (await this.#locks.query?.())?.held ?? []) {
        if (!name?.startsWith(prefix)) continue
        const epoch = Number(name.slice(prefix.length))
        if (Number.isSafeInteger(epoch) && epoch > highest) highest = epoch
      }
    } catch {
      // Not known: the term is numbered as without `query()`.
    }
    return highest
  }

  #request(steal: boolean): void {
    const term = ++this.#term
    // The Web Locks API refuses a signal together with `steal`; a steal is granted at once anyway.
    const abort = steal ? null : new AbortController()
    this.#abort = abort
    this.#locks
      .request(this.#name, abort ? { signal: abort.signal } : { steal: true }, async () => {
        // Left before the grant: returning at once releases the lock to the next in line.
        if (term !== this.#term) return
        this.#abort = null
        // Taken from a stopped leader: its term may be numbered above any this tab heard of (it
        // missed that term, and the clock may have been set back since); read it first.
        const above = steal ? await this.#heldTerm() : 0
        if (term !== this.#term) return
        return new Promise<void>((resolve) => {
          this.#release = resolve
          this.#hooks.elected(steal, above)
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
