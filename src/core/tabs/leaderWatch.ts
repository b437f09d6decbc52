/**
 * A follower's watch over its leader. A frozen page keeps its lock, so the lock alone cannot
 * tell a live leader from a stopped one: the leader posts a beat, and a *visible* follower
 * that hears nothing for `SILENT_BEATS` beats pings it directly; without an answer within one
 * more beat it steals the lock. No time lease decides anything: a slow but live leader (a
 * hidden tab whose timers the browser throttles) still answers the ping, since message events
 * are not throttled. Steals are bounded: one per epoch, and a tab that keeps stealing backs
 * off. Hidden tabs never steal.
 *
 * A tab of a SharedWorker (`via: 'worker'`) watches its worker the same way, hidden or not: the
 * worker beats, answers pings at once, and one that stays silent through a ping is dead (the
 * browser ended it); the tab then replaces it, at most once per port it opened, backing off the
 * same way.
 */
import { steadyClock } from '../environment'
import type { RealtimeEnvironment, TimerHandle } from '../types'

/** The leader posts a beat this often, ms. */
export const BEAT_MS = 1_000
/** Beats a follower misses before it pings the leader. */
const SILENT_BEATS = 3
/** Steals within this long of the previous one wait twice as long as the one before, ms. */
const STEAL_MEMORY_MS = 60_000
const MAX_BACKOFF_EXPONENT = 5

export interface LeaderWatchHooks {
  /** The leadership epoch followed now (a steal happens at most once per epoch). */
  epoch(): number
  ping(): void
  /** Takes over from the silent leader: steals its lock, or (a SharedWorker) replaces the worker. */
  steal(): void
  /**
   * Watches while the page is hidden too. A SharedWorker is never throttled and replacing one
   * moves no socket into this tab, so every tab of it watches; a hidden tab never steals a lead.
   */
  hidden?: boolean
}

export class LeaderWatch {
  readonly #env: RealtimeEnvironment
  readonly #hooks: LeaderWatchHooks
  #timer: TimerHandle | null = null
  #lastHeard: number
  #pingedAt: number | null = null
  #stoleFrom = -1
  #steals = 0
  #lastStealAt = -Infinity

  constructor(env: RealtimeEnvironment, hooks: LeaderWatchHooks) {
    // Silences are durations: on the steady clock (a step back of the system clock never hides a stopped leader).
    this.#env = { ...env, now: steadyClock(env.now) }
    this.#hooks = hooks
    this.#lastHeard = this.#env.now()
  }

  /** The leader spoke. */
  heard(): void {
    this.#lastHeard = this.#env.now()
    this.#pingedAt = null
  }

  /** Watches while the page is visible, unless `hidden` (call again when it becomes visible). */
  start(): void {
    if (this.#timer === null && this.#watching()) this.#schedule()
  }

  stop(): void {
    this.#env.clearTimeout(this.#timer)
    this.#timer = null
  }

  #schedule(): void {
    // Jittered, so that followers that lost the same leader do not all steal at once: the
    // first steal's announcement reaches the others before their own turn.
    this.#timer = this.#env.setTimeout(() => this.#tick(), BEAT_MS * (0.5 + this.#env.random()))
  }

  #watching(): boolean {
    return this.#hooks.hidden === true || this.#env.isVisible()
  }

  #tick(): void {
    this.#timer = null
    if (!this.#watching()) return
    const now = this.#env.now()
    this.#schedule()
    if (now - this.#lastHeard < SILENT_BEATS * BEAT_MS) return
    if (this.#pingedAt === null) {
      this.#pingedAt = now
      return this.#hooks.ping()
    }
    if (now - this.#pingedAt < BEAT_MS) return
    const epoch = this.#hooks.epoch()
    if (epoch === this.#stoleFrom) return
    if (now - this.#lastStealAt > STEAL_MEMORY_MS) this.#steals = 0
    if (now - this.#lastStealAt < BEAT_MS * 2 ** Math.min(this.#steals, MAX_BACKOFF_EXPONENT)) return
    this.#stoleFrom = epoch
    this.#steals++
    this.#lastStealAt = now
    this.stop()
    this.#hooks.steal()
  }
}
