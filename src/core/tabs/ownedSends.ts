/**
 * The sends a follower tab still owns: posted to a leader but not confirmed (the tab sends them
 * again to the next leader), and those a leader confirmed as held in its outbox but not yet
 * written. A leader that hands over says which of those it never wrote (they are sent again);
 * lost with a leader that crashed or was robbed, they count as uncertain: they may or may not
 * have gone out. Bounded like an outbox: `queue.max`, `queue.overflow`, `queue.ttl`.
 */
import { OutboxFullError, type ResolvedQueueOptions } from '../outbox'
import type { SendResult, WebSocketData } from '../types'

interface Owned {
  data: WebSocketData
  /** Epoch ms after which it must not be sent (Infinity without a ttl). */
  expiresAt: number
  /** The epoch it was posted to, or null while no leader has it. */
  postedTo: number | null
  /**
   * Posted to a term that ended unheard (a newer leader spoke first): that leader may still
   * write it, so it waits for that term's last word (`ok`, `bye`), or for that leader's tab to
   * be gone, before it goes to another. The epoch of that term, else null.
   */
  awaiting: number | null
}

/** A send to post: its id, its frame, and the time it has left (undefined: no ttl). */
export type Due = [id: number, data: WebSocketData, ttl: number | undefined]

/** No leader has it: never written, so dropping it loses it for sure (counted as dropped). */
const unposted = (owned: Owned): boolean => owned.postedTo === null && owned.awaiting === null

export class OwnedSends {
  readonly #queue: ResolvedQueueOptions
  readonly #now: () => number
  #waiting = new Map<number, Owned>()
  /**
   * The sends the leader holds in its outbox (it says `flushed` once that is empty), kept until
   * then in case it hands over without writing them; and those posted to it before this tab
   * left the group for a while (see `parted`). At most `queue.max` of each.
   */
  readonly #accepted = new Map<number, Owned>()
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
   * dropped, or made uncertain, to make room. Throws `OutboxFullError` under `overflow: 'error'`.
   *
   * `drop-oldest` evicts the oldest send no leader has (never written: `dropped`); only when
   * every waiting send was posted to a leader, which may have written it already or still write
   * it, the oldest of those (`uncertain`: counting it as dropped could count a written one).
   */
  add(data: WebSocketData, ttl: number | undefined): { id: number; dropped: number; uncertain: number } {
    let dropped = 0
    let uncertain = 0
    if (this.#waiting.size >= this.#queue.max) {
      if (this.#queue.overflow === 'error') throw new OutboxFullError(this.#queue.max, this.#queue.maxBytes)
      if (this.#queue.overflow === 'drop-newest') return { id: 0, dropped: 1, uncertain }
      let evict: number | undefined
      for (const [id, owned] of this.#waiting) {
        if (!unposted(owned)) continue
        evict = id
        break
      }
      if (evict === undefined) {
        evict = this.#waiting.keys().next().value!
        uncertain = 1
      } else dropped = 1
      this.#waiting.delete(evict)
    }
    const id = this.#nextId++
    this.#waiting.set(id, { data, expiresAt: this.#now() + (ttl ?? this.#queue.ttl ?? Infinity), postedTo: null, awaiting: null })
    return { id, dropped, uncertain }
  }

  /** The leader's answer about one send: false when it was not this tab's to settle. */
  confirm(id: number, result: SendResult): boolean {
    const owned = this.#waiting.get(id)
    if (!owned) return false
    this.#waiting.delete(id)
    if (result === 'queued') {
      this.#accepted.set(id, owned)
      // The leader's outbox keeps at most `queue.max`: one of them is out of it by now, dropped
      // and counted there. A leader of this build said which (`gone`, before this answer); from
      // an older one, guess: one whose ttl ran out, if any (the leader drops those first, whatever
      // their place), else the oldest (drop-oldest). Forgetting another would lose one the leader
      // still holds, and hands back unsent if it hands over.
      if (this.#accepted.size > this.#queue.max) this.#accepted.delete(this.#outOfOutbox())
    }
    return true
  }

  /** The leader's outbox let these of this tab's sends go to make room (dropped and counted there): forgotten. */
  gone(ids: readonly number[]): void {
    for (const id of ids) this.#accepted.delete(id)
  }

  #outOfOutbox(): number {
    const now = this.#now()
    for (const [id, owned] of this.#accepted) if (owned.expiresAt <= now) return id
    return this.#accepted.keys().next().value!
  }

  /**
   * This tab leaves the group for a while (pagehide, freeze) and will miss the answers: what it
   * posted to the leader of `epoch` that leader got, or gets, while its term lasts. Held like a
   * send confirmed as queued, it is settled by that term's `flushed`, snapshot or `bye`, or
   * counted as uncertain if the term ends unheard.
   */
  parted(epoch: number): void {
    for (const [id, owned] of this.#waiting) {
      if (owned.postedTo !== epoch) continue
      this.#waiting.delete(id)
      this.#accepted.set(id, owned)
    }
  }

  /**
   * The leader's outbox is empty (`flushed`, or a snapshot with nothing queued) after it handled
   * this tab's sends up to `handled`: those went out, or were dropped and counted there.
   */
  settled(handled: number): void {
    for (const id of this.#accepted.keys()) if (id <= handled) this.#accepted.delete(id)
  }

  /**
   * The leader handed over: of this tab's sends it handled those up to `handled`, and still held
   * `unsent` in its outbox, never written; the others it handled went out, or were dropped and
   * counted there. What it held or never got waits for the next leader, in the order sent.
   */
  handedBack(unsent: readonly number[], handled: number): void {
    const back = new Set(unsent)
    for (const [id, owned] of this.#accepted) if (back.has(id) || id > handled) this.#waiting.set(id, owned)
    this.#accepted.clear()
    for (const owned of this.#waiting.values()) if (owned.awaiting === null) owned.postedTo = null
    this.#waiting = new Map([...this.#waiting].sort(([a], [b]) => a - b))
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

  /**
   * The holder of the socket is gone without a word (a SharedWorker the browser ended): what it
   * had, in its outbox or posted to it, is lost with it; what it never had waits for the next
   * one. Returns how many are now uncertain.
   */
  vanished(): number {
    let lost = this.#accepted.size
    this.#accepted.clear()
    for (const [id, owned] of this.#waiting) {
      if (unposted(owned)) continue
      this.#waiting.delete(id)
      lost++
    }
    return lost
  }

  /**
   * A newer leader spoke before the term of `epoch` said its last word: what was posted to it
   * awaits that word (see `Owned.awaiting`). Returns whether anything does.
   */
  await(epoch: number): boolean {
    let any = false
    for (const owned of this.#waiting.values()) {
      if (owned.postedTo !== epoch) continue
      owned.awaiting = epoch
      any = true
    }
    return any
  }

  /**
   * The last word of an ended term about what awaits it: an `ok` (`id` and its result), or its
   * `bye` (`handled`, `unsent`, as in `handedBack`). What it wrote, or dropped and counted, is
   * done; the rest waits for the leader of now.
   */
  heard(epoch: number, word: { id: number; result: SendResult } | { handled: number; unsent: readonly number[] }): void {
    for (const [id, owned] of this.#waiting) {
      if (owned.awaiting !== epoch) continue
      if ('id' in word) {
        if (id !== word.id) continue
        if (word.result === 'queued') return
        this.#waiting.delete(id)
      } else if (id <= word.handled && !word.unsent.includes(id)) this.#waiting.delete(id)
      else owned.awaiting = owned.postedTo = null
    }
  }

  /** Does anything await the last word of the term of `epoch` (of any ended term, without one)? */
  awaits(epoch?: number): boolean {
    for (const owned of this.#waiting.values()) if (owned.awaiting !== null && (epoch === undefined || owned.awaiting === epoch)) return true
    return false
  }

  /** The last word of the term of `epoch` was missed: what awaited it is forgotten; returns how many (uncertain). */
  forget(epoch: number): number {
    let count = 0
    for (const [id, owned] of this.#waiting) {
      if (owned.awaiting !== epoch) continue
      this.#waiting.delete(id)
      count++
    }
    return count
  }

  /** The term of `epoch` can write nothing more (its leader is gone): what awaited it goes to the leader of now. */
  release(epoch: number): void {
    for (const owned of this.#waiting.values()) if (owned.awaiting === epoch) owned.awaiting = owned.postedTo = null
  }

  /**
   * Marks the waiting sends not posted to `epoch` yet as posted to it and returns them, in the order they were sent,
   * up to the first that awaits an ended term (none goes before it: order is kept, and a leader
   * sees each tab's ids only grow); expired ones go (`expired` counts them).
   */
  due(epoch: number): { due: Due[]; expired: number } {
    return this.#take(
      (owned) => {
        owned.postedTo = epoch
        return false
      },
      (owned) => owned.postedTo === epoch,
    )
  }

  /** Returns the waiting sends (up to the first awaiting an ended term) and forgets them: this tab leads now, they go into its own outbox. */
  drain(): { due: Due[]; expired: number } {
    return this.#take(() => true)
  }

  /**
   * Forgets everything; returns how many sends no leader had (never written) and how many were
   * posted to one that has not confirmed them (it may still write them).
   */
  clear(): { unposted: number; posted: number } {
    const none = [...this.#waiting.values()].filter(unposted).length
    const posted = this.#waiting.size - none
    this.#waiting.clear()
    this.#accepted.clear()
    return { unposted: none, posted }
  }

  /** In the order sent, up to the first that awaits an ended term; `skip`: already where they go. */
  #take(remove: (owned: Owned) => boolean, skip?: (owned: Owned) => boolean): { due: Due[]; expired: number } {
    const due: Due[] = []
    let expired = 0
    const now = this.#now()
    for (const [id, owned] of this.#waiting) {
      if (owned.awaiting !== null) break
      if (skip?.(owned)) continue
      const ttl = owned.expiresAt - now
      if (ttl <= 0 || remove(owned)) this.#waiting.delete(id)
      if (ttl <= 0) expired++
      else due.push([id, owned.data, ttl < Infinity ? ttl : undefined])
    }
    return { due, expired }
  }
}
