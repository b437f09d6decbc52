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
 * Each client keeps a random phase: its first retry lands anywhere in the first period, later
 * retries follow every `minDelay`, then `minDelay·factor`, ... So while the server refuses,
 * the herd's attempts stay spread at about clients / minDelay per ms, and the first retry after
 * an outage of length T comes within about minDelay/2 of T for a lone client. The two pull
 * against each other: a lone client back within 1.5 s of a 1 s refusal needs an attempt rate
 * of one per ~1 s per client, which for 300 clients is 30 per 100 ms on average, ~43 at the
 * random peak. Both hold only for minDelay between ~960 and ~995 ms; 980 ms is the middle
 * (simulated: peaks 43 / 44 / 44 per 100 ms when ready, refused 500 ms, refused 2 s; p90
 * back 0.90 s and 1.40 s; lone median 1.494 s; at 1,000 ms the lone median is 1.504 s).
 * Full jitter (AWS, "Exponential Backoff and Jitter") with a 1 s first window misses both
 * (simulated: peaks 42 / 50 / 55, p90 2.0 s after 500 ms, lone median 1.9 s).
 * `maxDelay` is reached after ~10 retries, about 75 s into an outage.
 */
export const RECONNECT_DEFAULTS: ResolvedReconnectOptions = {
  retries: Number.POSITIVE_INFINITY,
  minDelay: 980,
  maxDelay: 30_000,
  factor: 1.5,
  jitter: 0.2,
  minUptime: 5_000,
  maxElapsed: Number.POSITIVE_INFINITY,
}

/** Beyond this exponent factor^n is already past any sane maxDelay; clamping it avoids Infinity/NaN at attempt 1,000+. */
const MAX_EXPONENT = 64

/**
 * Delay before retry number `attempt` (1-based), ms.
 *
 * Retry n ≥ 2 waits minDelay·factor^(n-2) × (1 ± jitter). The exponential is clamped to
 * `maxDelay` *before* jitter is applied, so clients that have all reached the cap still
 * spread out (clamping after jitter, as socket.io-client does, collapses them onto one instant).
 *
 * The first retry is drawn from the residual-life (equilibrium) distribution of the second
 * retry's interval D = minDelay × (1 ± jitter): uniform up to minDelay·(1 - jitter), then
 * tapering to zero at minDelay·(1 + jitter). A plain uniform [0, minDelay] would stop abruptly
 * while the jittered second retries of the earliest clients already begin, doubling the herd's
 * rate around t = minDelay; drawn this way, first and second retries together arrive at a
 * constant rate (a stationary renewal process), so jitter costs the herd nothing. Sampled as
 * U × D̃, where D̃ is D length-biased.
 */
export function backoffDelay(
  attempt: number,
  options: Pick<ResolvedReconnectOptions, 'minDelay' | 'maxDelay' | 'factor' | 'jitter'>,
  random: () => number,
): number {
  const { minDelay, maxDelay, factor, jitter } = options
  const spread = Math.min(1, Math.max(0, jitter))
  if (attempt <= 1) {
    const period = Math.min(minDelay, maxDelay)
    const low = period * (1 - spread)
    const high = period * (1 + spread)
    const phase = random()
    return phase * Math.sqrt(low * low + random() * (high * high - low * low))
  }
  const base = Math.min(maxDelay, minDelay * Math.max(1, factor) ** Math.min(attempt - 2, MAX_EXPONENT))
  return base * (1 - spread + 2 * spread * random())
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
