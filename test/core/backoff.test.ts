import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { backoffDelay, hintedDelay, MIN_HINT_WINDOW, parseRetryHint, RECONNECT_DEFAULTS, resolveReconnect, retryDelay, withRetryHint } from '../../src/core/backoff'
import { Connection } from '../../src/core/connection'
import { createManualEnvironment } from '../../src/core/environment'
import { FakeWebSocket } from './fakeSocket'

const options = { minDelay: 1_000, maxDelay: 30_000, factor: 1.5, jitter: 0 }

/** A seeded generator so spreads are reproducible. */
function lcg(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    return state / 2 ** 32
  }
}

/** How many of `times` fall in each `width`-ms bucket from `start` to `end`. */
function buckets(times: number[], width: number, end: number, start = 0): number[] {
  const counts = new Array<number>(Math.ceil((end - start) / width)).fill(0)
  for (const t of times) if (t >= start && t < end) counts[Math.floor((t - start) / width)]++
  return counts
}

/** Where retry n lands from the loss when every earlier one failed at once (the sum of its delays). */
function landingOf(n: number, phase: number, opts = options): number {
  let t = 0
  for (let attempt = 1; attempt <= n; attempt++) t += retryDelay(attempt, t, opts, () => 0.5, phase)
  return t
}

/** When one client's retries 1..n land, counted from the loss (no time spent on the refusals). */
function retryTimes(n: number, phase: number, opts = options, random: () => number = () => 0.5): number[] {
  const times: number[] = []
  let t = 0
  for (let attempt = 1; attempt <= n; attempt++) times.push((t += backoffDelay(attempt, opts, random, phase)))
  return times
}

describe('backoffDelay', () => {
  it('draws the first retry evenly over the first slot, [0, minDelay)', () => {
    const random = lcg(1)
    const delays = Array.from({ length: 20_000 }, () => backoffDelay(1, options, random))
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(0)
    expect(Math.max(...delays)).toBeLessThan(options.minDelay)
    // Each 100 ms holds a tenth of the clients (± 10 %).
    const expected = delays.length / (options.minDelay / 100)
    for (const count of buckets(delays, 100, options.minDelay)) {
      expect(count).toBeGreaterThan(expected * 0.9)
      expect(count).toBeLessThan(expected * 1.1)
    }
  })

  it('lands retry n at the same phase of slot n: slots of minDelay, minDelay, then ×factor', () => {
    // Slots from the loss: [0, 1000), [1000, 2000), [2000, 3500), [3500, 5750)...
    const starts = [0, 1_000, 2_000, 3_500, 5_750]
    const lengths = [1_000, 1_000, 1_500, 2_250, 3_375]
    for (const phase of [0, 0.25, 0.5, 0.9]) {
      retryTimes(5, phase).forEach((at, i) => expect(at).toBeCloseTo(starts[i] + phase * lengths[i], 6))
    }
    // So the delay between retries n-1 and n is the rest of slot n-1 plus the phase of slot n.
    expect(backoffDelay(4, options, () => 0.5, 0)).toBeCloseTo(1_500, 6)
    expect(backoffDelay(4, options, () => 0.5, 0.5)).toBeCloseTo(0.5 * 1_500 + 0.5 * 2_250, 6)
    expect(backoffDelay(4, options, () => 0.5, 1)).toBeCloseTo(2_250, 6)
  })

  it('keeps a herd at clients / slot per ms in every slot (no bunching however long it is refused)', () => {
    const random = lcg(2)
    const clients = 20_000
    const times = Array.from({ length: clients }, () => retryTimes(4, random())).flat()
    // Slots of 1,000, 1,000, 1,500 and 2,250 ms: each tenth of a slot holds a tenth of the clients (± 10 %).
    for (const [start, length] of [
      [0, 1_000],
      [1_000, 1_000],
      [2_000, 1_500],
      [3_500, 2_250],
    ]) {
      const expected = clients / 10
      for (const count of buckets(times, length / 10, start + length, start)) {
        expect(count).toBeGreaterThan(expected * 0.9)
        expect(count).toBeLessThan(expected * 1.1)
      }
    }
  })

  it('clamps slots to maxDelay: clients at the cap stay spread over it by their phases', () => {
    const random = lcg(7)
    const landings = Array.from({ length: 1000 }, () => retryTimes(60, random()).at(-1)!)
    const first = Math.min(...landings)
    // Slot 60 is maxDelay long and the clients fill it (not collapsed onto one instant, as
    // socket.io-client's clamp-after-jitter does).
    expect(Math.max(...landings) - first).toBeGreaterThan(30_000 * 0.95)
    expect(Math.max(...landings) - first).toBeLessThan(30_000)
    expect(new Set(landings.map((t) => Math.floor((t - first) / 300))).size).toBeGreaterThan(95)
    expect(backoffDelay(60, options, () => 0.5, 0.3)).toBeCloseTo(30_000, 6)
  })

  it('scales the delay of retries after the first by 1 ± jitter when jitter is set', () => {
    const jittered = { ...options, jitter: 0.2 }
    expect(backoffDelay(1, jittered, () => 0, 0.5)).toBeCloseTo(500, 6)
    expect(backoffDelay(3, jittered, () => 0, 0.5)).toBeCloseTo(1_250 * 0.8, 6)
    expect(backoffDelay(3, jittered, () => 0.999999, 0.5)).toBeCloseTo(1_250 * 1.2, 2)
  })

  it('without a phase, draws one from random (the public one-call form)', () => {
    expect(backoffDelay(1, options, () => 0.25)).toBeCloseTo(250, 6)
    expect(backoffDelay(3, options, () => 0.9)).toBeCloseTo(0.1 * 1_000 + 0.9 * 1_500, 6)
  })

  it('retryDelay counts from the loss: a slow refusal does not push the next retry later', () => {
    // Phase 0.5: retry 2 at 1,500 ms from the loss, whether retry 1 (at 500) failed at once or after 300 ms.
    expect(retryDelay(2, 502, options, () => 0.5, 0.5)).toBeCloseTo(998, 6)
    expect(retryDelay(2, 800, options, () => 0.5, 0.5)).toBeCloseTo(700, 6)
    // Past its place in slot 2 already: its place in slot 3 (2,000 + 750), never at once.
    expect(retryDelay(2, 1_600, options, () => 0.5, 0.5)).toBeCloseTo(1_150, 6)
    expect(retryDelay(1, 0, options, () => 0.5, 0.25)).toBeCloseTo(250, 6)
  })

  it('retryDelay spreads clients whose attempts failed together over the next slot by their phases', () => {
    // 1,000 clients all failing at the same instant late in slot 2 (a stalled event loop, a proxy
    // that resets everything at once): each goes to its own place in the slot ahead, not in step.
    const random = lcg(5)
    const landings = Array.from({ length: 1000 }, () => 1_990 + retryDelay(2, 1_990, options, random, random()))
    expect(Math.min(...landings)).toBeGreaterThanOrEqual(1_990)
    for (const count of buckets(landings, 150, 3_500, 2_000)) {
      expect(count).toBeGreaterThan(100 * 0.7)
      expect(count).toBeLessThan(100 * 1.3)
    }
  })

  it('retryDelay never waits more than two slots when the wall clock jumps', () => {
    // The clock jumped back 40 s since the loss (elapsed < 0), or forward: at most slot 1 + slot 2.
    expect(retryDelay(2, -40_000, options, () => 0.5, 0.5)).toBe(2_000)
    expect(retryDelay(2, 40_000, options, () => 0.5, 0.5)).toBeLessThanOrEqual(2_000)
    expect(retryDelay(1, -40_000, options, () => 0.5, 0.5)).toBe(1_000)
  })

  it('retryDelay jumps over capped slots without counting them (attempt or elapsed may be huge)', () => {
    const capped = { ...options, maxDelay: 2_000 }
    // Slots 1,000, 1,000, 1,500, 2,000, 2,000...: slot n ≥ 4 starts at 3,500 + (n - 4)·2,000.
    expect(landingOf(10, 0.5, capped)).toBeCloseTo(3_500 + 6 * 2_000 + 1_000, 6)
    // A day into the outage: the next place at phase 0.5 of a 2,000 ms slot, within one slot.
    const late = retryDelay(5, 86_400_000 + 300, capped, () => 0.5, 0.5)
    expect(late).toBeGreaterThan(0)
    expect((86_400_000 + 300 + late - 3_500) % 2_000).toBeCloseTo(1_000, 6)
    expect(Number.isFinite(retryDelay(Number.MAX_SAFE_INTEGER, 0, capped, () => 0.5, 0.5))).toBe(true)
    expect(retryDelay(3, 500, { ...options, minDelay: 0 }, () => 0.5, 0.5)).toBe(0)
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

  it('times each retry from the loss, at the phase of the first in every slot', () => {
    // A lone client, random() = 0.5: retry n at the middle of slot n.
    const { attempts, backAt } = herd(1, 2_000, () => 0.5)
    const { minDelay, factor } = RECONNECT_DEFAULTS
    // (Fake timers fire on whole ms, and each refusal here takes 1 ms.)
    const expected = [minDelay / 2, minDelay + minDelay / 2, 2 * minDelay + (minDelay * factor) / 2]
    expect(attempts).toHaveLength(3)
    attempts.forEach((at, i) => expect(Math.abs(at - expected[i])).toBeLessThanOrEqual(3))
    expect(backAt[0]! - attempts[2]).toBeLessThanOrEqual(1)
  })

  it('keeps each retry at its place from the loss when refusals are slow (no drift)', () => {
    // The server takes 300 ms to refuse; retries still land at the middle of slots 1, 2, 3.
    const env = createManualEnvironment({ random: () => 0.5 })
    const attempts: number[] = []
    let start = 0
    class SlowRefusal extends FakeWebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols)
        attempts.push(Date.now() - start)
        setTimeout(() => this.serverClose(1006), 300)
      }
    }
    const connection = new Connection('ws://127.0.0.1:1/', { WebSocket: SlowRefusal, environment: env, heartbeat: false })
    connection.open()
    vi.advanceTimersByTime(300)
    start = Date.now()
    attempts.length = 0
    // The first socket was refused after 300 ms: the outage starts now.
    const { minDelay, factor } = RECONNECT_DEFAULTS
    vi.advanceTimersByTime(2 * minDelay + minDelay * factor)
    connection.close()
    const expected = [minDelay / 2, minDelay + minDelay / 2, 2 * minDelay + (minDelay * factor) / 2]
    expect(attempts).toHaveLength(3)
    attempts.forEach((at, i) => expect(Math.abs(at - expected[i])).toBeLessThanOrEqual(2))
  })

  it('draws the phase once per outage: every retry of it lands at the same place, the next outage draws again', () => {
    const draws = [0.2, 0.7]
    const used: number[] = []
    const env = createManualEnvironment({
      random: () => {
        const value = draws.shift() ?? 0.5
        used.push(value)
        return value
      },
    })
    const connection = new Connection('ws://127.0.0.1:1/', { WebSocket: FakeWebSocket, environment: env, heartbeat: false })
    const { minDelay, factor, minUptime } = RECONNECT_DEFAULTS
    connection.open()
    FakeWebSocket.last.accept()
    const lostAt = Date.now()
    FakeWebSocket.last.serverClose(1006)
    // Three refused retries, at 0.2 of slots 1, 2 and 3 (timed from each refusal, 0 ms here).
    const slots = [0, minDelay, 2 * minDelay]
    const lengths = [minDelay, minDelay, minDelay * factor]
    for (let i = 0; i < 3; i++) {
      expect(connection.state.nextRetryAt! - lostAt).toBeCloseTo(slots[i] + 0.2 * lengths[i], -1)
      vi.advanceTimersByTime(connection.state.nextRetryAt! - Date.now())
      if (i < 2) FakeWebSocket.last.serverClose(1006)
    }
    expect(used).toEqual([0.2])
    // Back, stable past minUptime: the next loss is a new outage with a new phase.
    FakeWebSocket.last.accept()
    vi.advanceTimersByTime(minUptime)
    const lostAgain = Date.now()
    FakeWebSocket.last.serverClose(1006)
    expect(used).toEqual([0.2, 0.7])
    expect(connection.state.nextRetryAt! - lostAgain).toBeCloseTo(0.7 * minDelay, -1)
    connection.close()
  })
})

describe('retry hints (the server places each client)', () => {
  const caps = { maxDelay: 30_000, factor: 1.5 }

  /** Where retries 1..n land from the close when each is refused at once. */
  function hintedTimes(n: number, hint: { delay: number; window: number }, opts = caps): number[] {
    const times: number[] = []
    let t = 0
    for (let attempt = 1; attempt <= n; attempt++) times.push((t += hintedDelay(attempt, t, hint, opts)))
    return times
  }

  it('reads the token at the end of a close reason, alone or after "; ", and nothing else', () => {
    expect(parseRetryHint('retry=0/250')).toEqual({ delay: 0, window: 250, rest: '' })
    expect(parseRetryHint('server shutting down; retry=120/750')).toEqual({ delay: 120, window: 750, rest: 'server shutting down' })
    for (const reason of ['', 'server shutting down', 'retry=12/', 'retry=-1/250', 'retry=1.5/250', 'xretry=1/250', 'retry=1/250 ', 'retry=12345678/1']) {
      expect(parseRetryHint(reason)).toBeNull()
    }
  })

  it('writes the token after the reason and keeps the whole within a close frame (123 bytes of UTF-8)', () => {
    expect(withRetryHint('server shutting down', { delay: 120, window: 750 })).toBe('server shutting down; retry=120/750')
    expect(withRetryHint('', { delay: 0, window: 250 })).toBe('retry=0/250')
    const long = withRetryHint('é'.repeat(200), { delay: 1_234_567, window: 9_999 })
    expect(new TextEncoder().encode(long).byteLength).toBeLessThanOrEqual(123)
    expect(parseRetryHint(long)).toMatchObject({ delay: 1_234_567, window: 9_999 })
  })

  it('lands retry 1 at the delay, then after slots of window, window × factor, … (each ≤ maxDelay)', () => {
    expect(hintedTimes(4, { delay: 0, window: 250 })).toEqual([0, 250, 625, 1_187.5])
    expect(hintedTimes(3, { delay: 400, window: 750 })).toEqual([400, 1_150, 2_275])
    // Capped slots: 20 s, then 30 s, 30 s.
    expect(hintedTimes(4, { delay: 0, window: 20_000 })).toEqual([0, 20_000, 50_000, 80_000])
  })

  it('keeps a herd the server spread evenly at its rate while it refuses (no random peaks)', () => {
    // 300 clients, window 750 ms: 40 per 100 ms in every slot, never more.
    const clients = 300
    const window = 750
    const times = Array.from({ length: clients }, (_, i) => hintedTimes(4, { delay: Math.floor((i * window) / clients), window })).flat()
    // Every wave keeps the offsets the server gave: 40 attempts in every 100 ms it covers.
    const perWindow = buckets(times, 100, 5_000)
    expect(Math.max(...perWindow)).toBe((clients * 100) / window)
    expect(perWindow.reduce((a, b) => a + b)).toBe(clients * 4)
  })

  it('counts from the close: a slow refusal does not push the next retry later; past it, the next point ahead', () => {
    const hint = { delay: 100, window: 1_000 }
    expect(hintedDelay(2, 400, hint, caps)).toBe(700)
    // Retry 2's point (1,100) is behind: retry 3's (2,600).
    expect(hintedDelay(2, 1_200, hint, caps)).toBe(1_400)
  })

  it('clamps what a server asks: no slot below MIN_HINT_WINDOW, no wait beyond maxDelay, no hang', () => {
    expect(hintedTimes(3, { delay: 0, window: 0 })).toEqual([0, MIN_HINT_WINDOW, MIN_HINT_WINDOW * 2.5])
    expect(hintedDelay(1, 0, { delay: 9_999_999, window: 250 }, caps)).toBe(30_000)
    // Slots stop growing (factor 1, or at maxDelay): jumped over, not counted.
    expect(hintedDelay(1e9, 0, { delay: 0, window: 500 }, { maxDelay: 30_000, factor: 1 })).toBe((1e9 - 1) * 500)
    expect(hintedDelay(3, 1e12, { delay: 0, window: 500 }, caps)).toBeLessThanOrEqual(30_000)
  })
})

describe('a Connection following a retry hint (fake timers)', () => {
  beforeEach(() => {
    vi.useFakeTimers()
    FakeWebSocket.reset()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  function opened(options: ConstructorParameters<typeof Connection>[1] = {}) {
    const connection = new Connection('ws://127.0.0.1:1/', { WebSocket: FakeWebSocket, environment: createManualEnvironment({ random: () => 0.5 }), heartbeat: false, ...options })
    connection.open()
    FakeWebSocket.last.accept()
    return connection
  }

  it('retries at the moment the server gave it, then after its window, until open; then forgets it', () => {
    const connection = opened()
    const closedAt = Date.now()
    FakeWebSocket.last.serverClose(1012, 'server shutting down; retry=300/1000')
    // The hint is for the schedule: the reason people see goes without it.
    expect(connection.state.lastClose?.reason).toBe('server shutting down')
    expect(connection.state.nextRetryAt! - closedAt).toBe(300)
    vi.advanceTimersByTime(300)
    expect(connection.state.status).toBe('connecting')
    FakeWebSocket.last.serverClose(1006)
    expect(connection.state.nextRetryAt! - closedAt).toBe(1_300)
    vi.advanceTimersByTime(1_000)
    FakeWebSocket.last.serverClose(1006)
    expect(connection.state.nextRetryAt! - closedAt).toBe(2_800)
    vi.advanceTimersByTime(1_500)
    FakeWebSocket.last.accept()
    expect(connection.state.status).toBe('open')
    // A later drop without a hint: the phase schedule again (0.5 of the first minDelay slot).
    vi.advanceTimersByTime(RECONNECT_DEFAULTS.minUptime)
    const lostAt = Date.now()
    FakeWebSocket.last.serverClose(1006)
    expect(connection.state.nextRetryAt! - lostAt).toBe(0.5 * RECONNECT_DEFAULTS.minDelay)
    connection.close()
  })

  it('ignores the hint with serverHint: false, and after a close it does not retry', () => {
    const ignoring = opened({ reconnect: { serverHint: false } })
    const closedAt = Date.now()
    FakeWebSocket.last.serverClose(1012, 'retry=300/1000')
    expect(ignoring.state.nextRetryAt! - closedAt).toBe(0.5 * RECONNECT_DEFAULTS.minDelay)
    ignoring.close()
    const refused = opened()
    FakeWebSocket.last.serverClose(4401, 'unauthorized; retry=0/250')
    expect(refused.state.status).toBe('failed')
    expect(vi.getTimerCount()).toBe(0)
  })
})
