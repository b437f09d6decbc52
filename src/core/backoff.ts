import { withDefaults } from './defaults'
import type { ReconnectOptions } from './types'

/** Resolved reconnect options (every field present). */
export type ResolvedReconnectOptions = Required<Omit<ReconnectOptions, 'shouldReconnect'>> &
  Pick<ReconnectOptions, 'shouldReconnect'>

/**
 * Defaults chosen by simulating (`node bench/sim/herd.mjs`) and then measuring (`npm run bench`,
 * scenarios c and f). A herd of 300 clients must put at most 45 attempts (15 % of the clients)
 * in any 100 ms, whether the server is ready at once or refuses for 500 ms or 2 s; 90 % must be
 * back within 1 s (ready) and 1.5 s (after 500 ms of refusal); a lone client within 1.5 s
 * (median) of a restart that refuses for 1 s.
 *
 * The schedule is a sequence of slots from the moment the link was lost: the first lasts
 * `minDelay`, slot n ≥ 2 lasts minDelay·factor^(n-2) (at most `maxDelay`). Each client draws one
 * random phase per outage and makes retry n at that phase of slot n. A herd dropped together
 * therefore arrives at an even clients / slot rate, and stays that even however long the server
 * refuses: clients keep their place instead of redrawing it on every retry, so the random
 * clusters of the first slot are the only ones. A fresh draw per retry, like jitter, gives the
 * herd new chances to bunch (simulated peaks when ready / refused 500 ms / refused 2 s: 43 / 43 /
 * 43 with the phase kept; 42 / 44 / 45 for the previous schedule, which drew ±20 % afresh on each
 * retry).
 *
 * The two targets pull against each other: a lone client back within 1.5 s of a 1 s refusal
 * needs ≥ 0.5 attempts per client in the half second after it, i.e. one per ≤ ~1 s, which for
 * 300 clients is ≥ 30 per 100 ms on average and ~43 at the random peak. Simulated at 980 ms:
 * peaks 43 / 43 / 43, p90 back 0.91 s and 1.39 s, lone median 1.49 s. Nothing spares both: every
 * 10 ms of lone median below that costs about one attempt of peak. Full jitter (AWS,
 * "Exponential Backoff and Jitter") with a 1 s first window misses both (simulated: peaks 42 /
 * 50 / 55, p90 2.0 s after 500 ms, lone median 1.9 s). `maxDelay` is reached after ~10 retries,
 * about 75 s into an outage.
 */
export const RECONNECT_DEFAULTS: ResolvedReconnectOptions = {
  retries: Number.POSITIVE_INFINITY,
  minDelay: 980,
  maxDelay: 30_000,
  factor: 1.5,
  jitter: 0,
  minUptime: 5_000,
  maxElapsed: Number.POSITIVE_INFINITY,
  serverHint: true,
}

/** Slots stop growing after this many (factor^64 is already past any sane maxDelay), so no Infinity/NaN at attempt 1,000+. */
const MAX_EXPONENT = 64

type Schedule = Pick<ResolvedReconnectOptions, 'minDelay' | 'maxDelay' | 'factor' | 'jitter'>

/** Length of slot `n` (1-based), ms: minDelay, minDelay, then minDelay·factor^(n-2), clamped to maxDelay. */
function slot(n: number, { minDelay, maxDelay, factor }: Schedule): number {
  return Math.min(maxDelay, minDelay * Math.max(1, factor) ** Math.min(Math.max(0, n - 2), MAX_EXPONENT))
}

/**
 * Where retry `attempt` lands, ms from the loss: at `phase` of slot `attempt`, or of the first
 * later slot that does not start it before `notBefore`. Slot 1 and 2 last minDelay, slot n ≥ 3
 * minDelay·factor^(n-2), each clamped to maxDelay.
 */
function landing(attempt: number, phase: number, options: Schedule, notBefore = 0): number {
  let start = 0
  for (let n = 1; ; n++) {
    const length = slot(n, options)
    if (n >= attempt && start + phase * length >= notBefore) return start + phase * length
    if (n >= 2 && slot(n + 1, options) === length) {
      // Slots no longer grow: jump to the one needed instead of counting (attempt may be huge).
      if (length <= 0) return Math.max(start, notBefore)
      const k = Math.max(attempt - n, Math.ceil((notBefore - start - phase * length) / length), 0)
      return start + (k + phase) * length
    }
    start += length
  }
}

/**
 * Delay before retry number `attempt` (1-based), ms, when every attempt fails at once, for a
 * client whose place in its slots is `phase` (uniform in [0, 1), drawn once per outage; drawn
 * from `random` when not given).
 *
 * Retry n lands at `phase` of slot n: retry 1 waits phase·slot(1), retry n ≥ 2 the rest of slot
 * n-1 plus `phase` of slot n, (1 - phase)·slot(n-1) + phase·slot(n). With `jitter` > 0 that delay
 * is then scaled by (1 ± jitter) for n ≥ 2. Slots are clamped to `maxDelay` before anything else,
 * so clients that have all reached the cap stay spread over it by their phases (clamping after
 * jitter, as socket.io-client does, collapses them onto one instant).
 */
export function backoffDelay(attempt: number, options: Schedule, random: () => number, phase: number = random()): number {
  const u = Math.min(1, Math.max(0, phase))
  const delay = attempt <= 1 ? u * slot(1, options) : (1 - u) * slot(attempt - 1, options) + u * slot(attempt, options)
  return jittered(delay, attempt, options.jitter, random)
}

/**
 * What Connection waits before retry `attempt`, `elapsed` ms into the outage: until `phase` of
 * slot `attempt`, counted from the loss rather than from the last refusal, or of the first later
 * slot still ahead. So slow refusals never pile up into drift, and clients whose attempts failed
 * together (a stalled event loop, a proxy that resets them all at once) spread again over the
 * next slot by their phases instead of retrying in step. `elapsed` comes from the wall clock,
 * which jumps (a laptop waking, NTP): the wait never exceeds slot(attempt-1) + slot(attempt).
 */
export function retryDelay(attempt: number, elapsed: number, options: Schedule, random: () => number, phase: number): number {
  const at = landing(attempt, Math.min(1, Math.max(0, phase)), options, elapsed)
  const bound = (attempt > 1 ? slot(attempt - 1, options) : 0) + slot(attempt, options)
  return jittered(Math.min(at - elapsed, bound), attempt, options.jitter, random)
}

function jittered(delay: number, attempt: number, jitter: number, random: () => number): number {
  const spread = Math.min(1, Math.max(0, jitter))
  return attempt > 1 && spread > 0 ? delay * (1 - spread + 2 * spread * random()) : delay
}

/**
 * A retry hint: where a server that closes a socket wants that client to come back, ms from the
 * close. A vue-realtime server ends the close reason of a planned close (1012) with
 * `retry=<delay>/<window>`: it gives each of its N clients its own `delay` in
 * [after, after + window) and one `window` sized by N (see `CloseOptions.retryRate`), so its
 * clients come back at an even rate instead of a random one. docs/protocol.md, "Retry hints".
 */
export interface RetryHint {
  /** This client's first retry, ms after the close. */
  delay: number
  /** The first slot, ms: later retries come window, window·factor, … after (each ≤ maxDelay). */
  window: number
}

/** The hint token at the end of a close reason: alone, or after `; `. */
const HINT = /(?:^|; )retry=(\d{1,7})\/(\d{1,7})$/

/** The smallest slot a hint may ask for, ms: a server cannot make its clients hammer it. */
export const MIN_HINT_WINDOW = 100

/** The hint in a close reason, with the reason without it (`rest`), or null. */
export function parseRetryHint(reason: string): (RetryHint & { rest: string }) | null {
  const match = HINT.exec(reason)
  return match ? { delay: Number(match[1]), window: Number(match[2]), rest: reason.slice(0, match.index) } : null
}

/** `reason` with the hint appended, cut so the whole stays within a close frame's 123 bytes. */
export function withRetryHint(reason: string, hint: RetryHint): string {
  const token = `retry=${Math.round(hint.delay)}/${Math.round(hint.window)}`
  if (!reason) return token
  const encoder = new TextEncoder()
  let head = reason
  // Close reasons are counted in UTF-8 bytes (1–4 a character): cut a quarter of the excess in
  // characters at a time, so a long reason takes a few steps, not one per character.
  for (let excess = encoder.encode(`${head}; ${token}`).byteLength - 123; excess > 0 && head; excess = encoder.encode(`${head}; ${token}`).byteLength - 123) {
    head = head.slice(0, -Math.max(1, Math.floor(excess / 4)))
  }
  return head ? `${head}; ${token}` : token
}

/**
 * Delay before retry `attempt` (1-based, counted from the close that carried the hint),
 * `elapsed` ms after that close: retry 1 at `hint.delay`, retry n at delay + window·(1 +
 * factor + … + factor^(n-2)), each slot at most `maxDelay`; or the first such point still ahead
 * when slow refusals have used the time. Every client of the server keeps its own offset, so
 * they stay as evenly spread as the server placed them however long it refuses. Both figures
 * are clamped (delay to [0, maxDelay], window to [MIN_HINT_WINDOW, maxDelay]).
 */
export function hintedDelay(attempt: number, elapsed: number, hint: RetryHint, { maxDelay, factor }: Pick<ResolvedReconnectOptions, 'maxDelay' | 'factor'>): number {
  const cap = Math.max(MIN_HINT_WINDOW, maxDelay)
  let at = Math.min(Math.max(0, hint.delay), cap)
  let slot = Math.min(Math.max(MIN_HINT_WINDOW, hint.window), cap)
  for (let n = 1; n < attempt || at < elapsed; n++) {
    const next = Math.min(cap, slot * Math.max(1, factor))
    if (next === slot) {
      // Slots no longer grow: jump to the one needed instead of counting (attempt may be huge).
      return at + Math.max(attempt - n, Math.ceil((elapsed - at) / slot), 0) * slot - elapsed
    }
    at += slot
    slot = next
  }
  return at - elapsed
}

export function resolveReconnect(option: boolean | ReconnectOptions | undefined): ResolvedReconnectOptions | null {
  if (option === false) return null
  const resolved = withDefaults(RECONNECT_DEFAULTS, option === true ? undefined : option)
  for (const key of ['minDelay', 'maxDelay', 'factor', 'minUptime'] as const) {
    const value = resolved[key]
    if (typeof value !== 'number' || !(value >= 0)) {
      throw new RangeError(`vue-realtime: reconnect.${key} must be a number ≥ 0 (got ${String(value)}).`)
    }
  }
  return resolved
}
