import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { backoffDelay, RECONNECT_DEFAULTS, resolveReconnect } from '../../src/core/backoff'
import { Connection } from '../../src/core/connection'
import { createManualEnvironment } from '../../src/core/environment'
import { FakeWebSocket } from './fakeSocket'

const options = { minDelay: 1_000, maxDelay: 30_000, factor: 1.5, jitter: 0.2 }

/** A seeded generator so spreads are reproducible. */
function lcg(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    return state / 2 ** 32
  }
}

/** How many of `times` fall in each `width`-ms bucket from 0 to `end`. */
function buckets(times: number[], width: number, end: number): number[] {
  const counts = new Array<number>(Math.ceil(end / width)).fill(0)
  for (const t of times) if (t < end) counts[Math.floor(t / width)]++
  return counts
}

describe('backoffDelay', () => {
  it('draws the first retry evenly over the first period, tapering to nothing past minDelay·(1 + jitter)', () => {
    const random = lcg(1)
    const delays = Array.from({ length: 20_000 }, () => backoffDelay(1, options, random))
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(0)
    expect(Math.max(...delays)).toBeLessThanOrEqual(options.minDelay * (1 + options.jitter))
    // Flat up to minDelay·(1 - jitter): each 100 ms holds a tenth of the clients per minDelay (± 10 %).
    const expected = delays.length / (options.minDelay / 100)
    for (const count of buckets(delays, 100, options.minDelay * (1 - options.jitter))) {
      expect(count).toBeGreaterThan(expected * 0.9)
      expect(count).toBeLessThan(expected * 1.1)
    }
    // Then thinner: the last 100 ms before the end hold far fewer.
    const tail = delays.filter((d) => d >= options.minDelay * (1 + options.jitter) - 100).length
    expect(tail).toBeLessThan(expected * 0.2)
  })

  it('keeps a herd at a constant rate across the first two retries (no bump where they overlap)', () => {
    // Each client: first retry at d1, second at d1 + d2. Together they must arrive as evenly as
    // the first ones alone; a plain uniform [0, minDelay] first retry would put ~1.4× as many in
    // the 100 ms around minDelay, where the earliest clients' jittered second retries begin.
    const random = lcg(2)
    const clients = 20_000
    const times: number[] = []
    for (let i = 0; i < clients; i++) {
      const first = backoffDelay(1, options, random)
      times.push(first, first + backoffDelay(2, options, random))
    }
    const expected = clients / (options.minDelay / 100)
    // Up to where the second retries begin to thin out.
    for (const count of buckets(times, 100, options.minDelay * (2 - options.jitter))) {
      expect(count).toBeGreaterThan(expected * 0.9)
      expect(count).toBeLessThan(expected * 1.1)
    }
  })

  it('grows by factor per retry and stays within ±jitter of the exponential', () => {
    // Retry n ≥ 2 waits minDelay·factor^(n-2) × (1 ± jitter).
    expect(backoffDelay(2, options, () => 0.5)).toBeCloseTo(1_000, 6)
    expect(backoffDelay(4, options, () => 0.5)).toBeCloseTo(1_000 * 1.5 ** 2, 6)
    expect(backoffDelay(4, options, () => 0)).toBeCloseTo(1_000 * 1.5 ** 2 * 0.8, 6)
    expect(backoffDelay(4, options, () => 0.999999)).toBeCloseTo(1_000 * 1.5 ** 2 * 1.2, 2)
  })

  it('clamps before jitter: clients at the cap still spread over maxDelay ± jitter', () => {
    const random = lcg(7)
    const delays = Array.from({ length: 1000 }, () => backoffDelay(60, options, random))
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(30_000 * 0.8)
    expect(Math.max(...delays)).toBeLessThanOrEqual(30_000 * 1.2)
    // Not collapsed onto one instant (socket.io-client's clamp-after-jitter flaw).
    expect(new Set(delays.map((d) => Math.round(d / 100))).size).toBeGreaterThan(50)
  })

  it('without jitter, the first retry is uniform over [0, minDelay] and later ones exact', () => {
    const exact = { ...options, jitter: 0 }
    expect(backoffDelay(1, exact, () => 0.25)).toBeCloseTo(250, 6)
    expect(backoffDelay(3, exact, () => 0.9)).toBeCloseTo(1_500, 6)
  })

  it('never overflows at attempt 1,000+ (exponent clamped)', () => {
    for (const attempt of [1_000, 10_000, Number.MAX_SAFE_INTEGER]) {
      const delay = backoffDelay(attempt, { ...options, factor: 10, jitter: 0 }, () => 0.5)
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

describe('a herd of Connections under fake timers', () => {
  beforeEach(() => {
    vi.useFakeTimers()
    FakeWebSocket.reset()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  /**
   * `clients` Connections with the default reconnect options, all dropped at t = 0, against a
   * server that refuses every attempt (closes it at once, 1006) until `refuseMs`. Returns when
   * each attempt was made and when each client was open again.
   */
  function herd(clients: number, refuseMs: number, random = lcg(11)) {
    const env = createManualEnvironment({ random })
    const start = Date.now()
    const attempts: number[] = []
    let counting = false
    class Server extends FakeWebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols)
        const at = Date.now() - start
        if (counting) attempts.push(at)
        setTimeout(() => (counting && at < refuseMs ? this.serverClose(1006) : this.accept()), 0)
      }
    }
    const connections = Array.from({ length: clients }, () => new Connection('ws://127.0.0.1:1/', { WebSocket: Server, environment: env, heartbeat: false }))
    const backAt = new Array<number | null>(clients).fill(null)
    for (const c of connections) c.open()
    vi.advanceTimersByTime(0)
    counting = true
    const t0 = Date.now()
    connections.forEach((c, i) => c.on('open', () => (backAt[i] ??= Date.now() - t0)))
    for (const socket of [...FakeWebSocket.instances]) socket.serverClose(1006)
    vi.advanceTimersByTime(30_000)
    for (const c of connections) c.close()
    return { attempts: attempts.map((a) => a - (t0 - start)), backAt }
  }

  function peakPer100ms(times: number[]): number {
    const sorted = [...times].sort((a, b) => a - b)
    let peak = 0
    for (let i = 0, j = 0; i < sorted.length; i++) {
      while (sorted[i] - sorted[j] >= 100) j++
      peak = Math.max(peak, i - j + 1)
    }
    return peak
  }

  it('keeps the attempts spread while the server refuses: each client keeps its phase, retries never bunch', () => {
    const clients = 600
    const { attempts, backAt } = herd(clients, 2_000)
    expect(backAt.every((t) => t !== null)).toBe(true)
    // About clients / minDelay attempts per ms throughout, never 15 % of the clients in 100 ms
    // (a schedule that restarted every client's phase on each refusal would bunch them).
    expect(peakPer100ms(attempts)).toBeLessThan(clients * 0.15)
    // Every refused attempt was retried, none twice at once: attempts ≈ clients × (1 + refused waves).
    expect(attempts.length).toBeLessThan(clients * 4)
  })

  it('times each retry from the refusal before it, keeping the phase of the first', () => {
    // A lone client, random() = 0.5: first retry at d1, then minDelay later, then minDelay·factor later.
    const { attempts, backAt } = herd(1, 2_000, () => 0.5)
    const d1 = backoffDelay(1, RECONNECT_DEFAULTS, () => 0.5)
    const { minDelay, factor } = RECONNECT_DEFAULTS
    // (Fake timers fire on whole ms, and each refusal here takes 1 ms.)
    const expected = [d1, d1 + minDelay, d1 + minDelay + minDelay * factor]
    expect(attempts).toHaveLength(3)
    attempts.forEach((at, i) => expect(Math.abs(at - expected[i])).toBeLessThanOrEqual(3))
    expect(backAt[0]! - attempts[2]).toBeLessThanOrEqual(1)
  })
})
