import { withDefaults } from './defaults'
import type { ReconnectOptions } from './types'

/** Resolved reconnect options (every field present). */
export type ResolvedReconnectOptions = Required<Omit<ReconnectOptions, 'shouldReconnect'>> &
  Pick<ReconnectOptions, 'shouldReconnect'>

/**
 * Defaults chosen by simulating and then measuring (`npm run bench`, scenarios c and f):
 * a herd of 300 clients must not put more than 15% of its attempts in any 100 ms window,
 * yet 90% must be back within 1.6 s of a 500 ms outage and a lone client within 1.5 s of a
 * 1 s restart. The first retry, drawn uniformly from [0, minDelay], gives every client a
 * random phase; later retries keep that phase with little jitter, so the herd stays spread
 * while each client keeps retrying about every `minDelay` early on. More jitter or a larger
 * factor re-bunches the herd or slows the lone client (simulated: factor 1.3 / jitter 0.25
 * put the restart median at ~1.38 s, 1.2 / 0.1 at ~1.34 s, with the same herd peak ~13%).
 * `maxDelay` is reached after ~23 retries, about 2.5 minutes into an outage.
 */
export const RECONNECT_DEFAULTS: ResolvedReconnectOptions = {
  retries: Number.POSITIVE_INFINITY,
  minDelay: 500,
  maxDelay: 30_000,
  factor: 1.2,
  jitter: 0.1,
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
  const base = Math.min(maxDelay, minDelay * Math.max(1, factor) ** Math.min(attempt - 2, MAX_EXPONENT))
  const spread = Math.min(1, Math.max(0, jitter))
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
