import { describe, expect, it } from 'vitest'
import { backoffDelay, RECONNECT_DEFAULTS, resolveReconnect } from '../../src/core/backoff'

const options = { minDelay: 500, maxDelay: 30_000, factor: 1.3, jitter: 0.25 }

/** A seeded generator so spreads are reproducible. */
function lcg(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    return state / 2 ** 32
  }
}

describe('backoffDelay', () => {
  it('draws the first retry uniformly from [0, minDelay] so a herd spreads out', () => {
    const random = lcg(1)
    const delays = Array.from({ length: 2000 }, () => backoffDelay(1, options, random))
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(0)
    expect(Math.max(...delays)).toBeLessThanOrEqual(500)
    // Every 100 ms bucket of the 500 ms window gets its share (20% ± 4%).
    const buckets = [0, 0, 0, 0, 0]
    for (const d of delays) buckets[Math.min(4, Math.floor(d / 100))]++
    for (const count of buckets) expect(count / delays.length).toBeGreaterThan(0.16)
    for (const count of buckets) expect(count / delays.length).toBeLessThan(0.24)
  })

  it('grows by factor per retry and stays within ±jitter of the exponential', () => {
    // Retry n ≥ 2 waits minDelay·factor^(n-2) × (1 ± jitter).
    expect(backoffDelay(2, options, () => 0.5)).toBeCloseTo(500, 6)
    expect(backoffDelay(4, options, () => 0.5)).toBeCloseTo(500 * 1.3 ** 2, 6)
    expect(backoffDelay(4, options, () => 0)).toBeCloseTo(500 * 1.3 ** 2 * 0.75, 6)
    expect(backoffDelay(4, options, () => 0.999999)).toBeCloseTo(500 * 1.3 ** 2 * 1.25, 3)
  })

  it('clamps before jitter: clients at the cap still spread over maxDelay ± jitter', () => {
    const random = lcg(7)
    const delays = Array.from({ length: 1000 }, () => backoffDelay(60, options, random))
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(30_000 * 0.75)
    expect(Math.max(...delays)).toBeLessThanOrEqual(30_000 * 1.25)
    // Not collapsed onto one instant (socket.io-client's clamp-after-jitter flaw).
    expect(new Set(delays.map((d) => Math.round(d / 100))).size).toBeGreaterThan(50)
  })

  it('never overflows at attempt 1,000+ (exponent clamped)', () => {
    for (const attempt of [1_000, 10_000, Number.MAX_SAFE_INTEGER]) {
      const delay = backoffDelay(attempt, { ...options, factor: 10 }, () => 0.5)
      expect(Number.isFinite(delay)).toBe(true)
      expect(delay).toBe(30_000)
    }
  })

  it('resolves defaults and rejects nonsense with a clear error', () => {
    expect(resolveReconnect(undefined)).toEqual(RECONNECT_DEFAULTS)
    expect(resolveReconnect(false)).toBeNull()
    expect(resolveReconnect({ retries: 3 })!.retries).toBe(3)
    expect(() => resolveReconnect({ minDelay: -1 })).toThrow(/reconnect\.minDelay must be a number ≥ 0/)
  })
})
