import type { ReconnectOptions } from './types'

/** Resolved reconnect options (every field present). */
export type ResolvedReconnectOptions = Required<Omit<ReconnectOptions, 'shouldReconnect'>> &
  Pick<ReconnectOptions, 'shouldReconnect'>

/**
 * Defaults chosen by simulating and then measuring (`npm run bench`, scenarios c and f):
 * a herd of 300 clients must not put more than 15% of its attempts in any 100 ms window,
 * yet 90% must be back within 1.6 s of a 500 ms outage and a lone client within ~1.5 s of
 * a 1 s restart. A full-jitter first retry spreads the herd over `minDelay`; the gentle
 * `factor` keeps the retry rate up during short outages while still backing off to
 * `maxDelay` (reached after ~16 retries, about two minutes) for long ones.
 */
export const RECONNECT_DEFAULTS: ResolvedReconnectOptions = {
  retries: Number.POSITIVE_INFINITY,
  minDelay: 500,
  maxDelay: 30_000,
  factor: 1.3,
  jitter: 0.25,
  minUptime: 5_000,
  maxElapsed: Number.POSITIVE_INFINITY,
}

/** Beyond this exponent factor^n is already past any sane maxDelay; clamping it avoids Infinity/NaN at attempt 1,000+. */
const MAX_EXPONENT = 64

/**
 * Delay before retry number `attempt` (1-based), ms.
 *
 * The exponential is clamped to `maxDelay` *before* jitter is applied, so clients that have
 * all reached the cap still spread out (clamping after jitter, as socket.io-client does,
 * collapses them onto the same instant).
 */
export function backoffDelay(
  attempt: number,
  options: Pick<ResolvedReconnectOptions, 'minDelay' | 'maxDelay' | 'factor' | 'jitter'>,
  random: () => number,
): number {
  const { minDelay, maxDelay, factor, jitter } = options
  if (attempt <= 1) return random() * Math.min(minDelay, maxDelay)
  const exponent = Math.min(attempt - 2, MAX_EXPONENT)
  const base = Math.min(maxDelay, minDelay * Math.pow(Math.max(1, factor), exponent))
  const spread = Math.min(1, Math.max(0, jitter))
  return base * (1 - spread + 2 * spread * random())
}

export function resolveReconnect(option: boolean | ReconnectOptions | undefined): ResolvedReconnectOptions | null {
  if (option === false) return null
  const given = option === true || option === undefined ? {} : option
  const resolved = { ...RECONNECT_DEFAULTS }
  for (const key of Object.keys(given) as (keyof ReconnectOptions)[]) {
    const value = given[key]
    if (value !== undefined) (resolved as Record<string, unknown>)[key] = value
  }
  for (const key of ['minDelay', 'maxDelay', 'factor', 'minUptime'] as const) {
    const value = resolved[key]
    if (typeof value !== 'number' || !(value >= 0)) {
      throw new RangeError(`vue-realtime: reconnect.${key} must be a number ≥ 0 (got ${String(value)}).`)
    }
  }
  return resolved
}
