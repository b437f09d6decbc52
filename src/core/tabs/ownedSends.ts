/**
 * The sends a follower tab still owns: posted to a leader but not confirmed (the tab sends them
 * again to the next leader), and those a leader confirmed as held in its outbox but not yet
 * written (lost with that leader, they are counted as uncertain: they may or may not have gone
 * out). Bounded like an outbox: `queue.max`, `queue.overflow`, `queue.ttl`.
 */
import { OutboxFullError, type ResolvedQueueOptions } from '../outbox'
import type { SendResult, WebSocketData } from '../types'

interface Owned {
  data: WebSocketData
  /** Epoch ms after which it must not be sent (Infinity without a ttl). */
  expiresAt: number
  /** The epoch it was posted to, or null while no leader has it. */
  postedTo: number | null
}

/** A send to post: its id, its frame, and the time it has left (undefined: no ttl). */
export type Due = [id: number, data: WebSocketData, ttl: number | undefined]

export class OwnedSends {
  readonly #queue: ResolvedQueueOptions
  readonly #now: () => number
  readonly #waiting = new Map<number, Owned>()
  /** Ids the leader holds in its outbox (it says `flushed` once that is empty). */
  readonly #accepted = new Set<number>()
  #nextId = 1

  constructor(queue: ResolvedQueueOptions, now: () => number) {
    this.#queue = queue
    this.#now = now
  }

  /** Sends waiting for a leader's confirmation. */
  get size(): number {
    return this.#waiting.size
  }

  /**
   * Takes a send; returns its id (0 when the overflow strategy refused it) and how many were
   * dropped to make room. Throws `OutboxFullError` under `overflow: 'error'`.
   */
  add(data: WebSocketData, ttl: number | undefined): { id: number; dropped: number } {
    let dropped = 0
    if (this.#waiting.size >= this.#queue.max) {
      if (this.#queue.overflow === 'error') throw new OutboxFullError(this.#queue.max, this.#queue.maxBytes)
      if (this.#queue.overflow === 'drop-newest') return { id: 0, dropped: 1 }
      this.#waiting.delete(this.#waiting.keys().next().value!)
      dropped = 1
    }
    const id = this.#nextId++
    this.#waiting.set(id, { data, expiresAt: this.#now() + (ttl ?? this.#queue.ttl ?? Infinity), postedTo: null })
    return { id, dropped }
  }

  /** The leader's answer about one send: false when it was not this tab's to settle. */
  confirm(id: number, result: SendResult): boolean {
    if (!this.#waiting.delete(id)) return false
    if (result === 'queued') this.#accepted.add(id)
    return true
  }

  /** The leader's outbox emptied: what it held went out (or was dropped there, and counted there). */
  flushed(): void {
    this.#accepted.clear()
  }

  /**
   * A new leader: what the last one held in its outbox is lost with it; after a steal, so is
   * what was posted to the deposed one (it may still write it: never send it twice). Returns
   * how many are now uncertain.
   */
  lose(stolen: boolean, epoch: number): number {
    let lost = this.#accepted.size
    this.#accepted.clear()
    if (stolen) {
      for (const [id, owned] of this.#waiting) {
        if (owned.postedTo === null || owned.postedTo === epoch) continue
        this.#waiting.delete(id)
        lost++
      }
    }
    return lost
  }

  /** Marks every waiting send as posted to `epoch` and returns them; expired ones go (`expired` counts them). */
  due(epoch: number): { due: Due[]; expired: number } {
    return this.#take((owned) => {
      owned.postedTo = epoch
      return false
    })
  }

  /** Returns every waiting send and forgets it (this tab leads now: they go into its own outbox). */
  drain(): { due: Due[]; expired: number } {
    return this.#take(() => true)
  }

  /** Out of the group this tab cannot hear `flushed`: what the leader holds is the leader's. */
  forgetAccepted(): void {
    this.#accepted.clear()
  }

  clear(): void {
    this.#waiting.clear()
    this.#accepted.clear()
  }

  /** One send, to post to `epoch` now (undefined if it expired, which removes it). */
  one(id: number, epoch: number): Due | undefined {
    const owned = this.#waiting.get(id)
    if (!owned) return undefined
    const ttl = owned.expiresAt - this.#now()
    if (ttl <= 0) {
      this.#waiting.delete(id)
      return undefined
    }
    owned.postedTo = epoch
    return [id, owned.data, ttl < Infinity ? ttl : undefined]
  }

  #take(remove: (owned: Owned) => boolean): { due: Due[]; expired: number } {
    const due: Due[] = []
    let expired = 0
    const now = this.#now()
    for (const [id, owned] of this.#waiting) {
      const ttl = owned.expiresAt - now
      if (ttl <= 0 || remove(owned)) this.#waiting.delete(id)
      if (ttl <= 0) expired++
      else due.push([id, owned.data, ttl < Infinity ? ttl : undefined])
    }
    return { due, expired }
  }
}
