import { withDefaults } from './defaults'
import type { HeartbeatOptions, RealtimeEnvironment, TimerHandle, WebSocketData } from './types'

export interface ResolvedHeartbeatOptions {
  message: WebSocketData | (() => WebSocketData)
  interval: number
  timeout: number
  isPong: (data: unknown) => boolean
}

/** Matches text `pong` or JSON `{"type":"pong", ...}` without parsing every inbound frame. */
const MAX_PONG_LENGTH = 64

export function defaultIsPong(data: unknown): boolean {
  if (typeof data !== 'string') return false
  if (data === 'pong') return true
  // A pong envelope is short (`{"type":"pong","ts":1732250000000}` is 34 characters): anything
  // longer is application data and skips the scan, which matters under a firehose.
  if (data.length > MAX_PONG_LENGTH || data[0] !== '{' || !data.includes('"pong"')) return false
  try {
    return JSON.parse(data)?.type === 'pong'
  } catch {
    return false
  }
}

export const HEARTBEAT_DEFAULTS: ResolvedHeartbeatOptions = {
  message: 'ping',
  interval: 25_000,
  timeout: 10_000,
  isPong: defaultIsPong,
}

export function resolveHeartbeat(option: boolean | HeartbeatOptions | undefined): ResolvedHeartbeatOptions | null {
  if (option === false) return null
  const resolved = withDefaults(HEARTBEAT_DEFAULTS, option === true ? undefined : option)
  if (!(resolved.interval > 0) || !(resolved.timeout > 0)) {
    throw new RangeError(
      `vue-realtime: heartbeat.interval and heartbeat.timeout must be > 0 ms (got ${resolved.interval} and ${resolved.timeout}).`,
    )
  }
  return resolved
}

export interface HeartbeatHooks {
  /** Write a ping frame to the socket. */
  ping(data: WebSocketData): void
  /** No frame arrived within `timeout` of a ping (nor did the send buffer move): the link is dead. */
  dead(): void
  /** A pong answered the outstanding ping after `ms`. */
  latency(ms: number): void
  /** The socket's `bufferedAmount`: a ping queued behind a large upload has not left yet. */
  bufferedAmount(): number
  /** A user callback (`message`, `isPong`) threw. */
  failed(error: unknown, where: 'heartbeat.message' | 'heartbeat.isPong'): void
}

/**
 * Application-level keep-alive for one open socket. Pings every `interval`; if no frame at
 * all arrives within `timeout` of the oldest unanswered ping, the link is declared dead.
 * Inbound frames re-arm nothing and read the clock only for the first frame after a tick or a
 * check (no timer churn and no clock read per frame under a firehose). Because background
 * tabs throttle timers and laptops sleep, the wall clock is also checked on demand (`check`).
 *
 * Two things make a silent link look dead when it is not, and both are ruled out before
 * `dead()`: a busy event loop runs an expired timer before it reads the pong already waiting
 * in the socket (so the verdict is taken again one macrotask later), and a ping queued behind
 * a large upload has not even left (so while `bufferedAmount` shrinks, the deadline moves).
 *
 * Owns one timer (the next ping or the deadline, whichever comes first); `stop()` clears it.
 */
export class Heartbeat {
  readonly #options: ResolvedHeartbeatOptions
  readonly #env: Pick<RealtimeEnvironment, 'setTimeout' | 'clearTimeout' | 'now'>
  readonly #hooks: HeartbeatHooks
  #timer: TimerHandle = null
  #running = false
  /**
   * When a frame arrived: the first one after the last `check()` or tick (each of those clears
   * `#stamped`), so a firehose reads the clock once per tick or check, not once per frame. It is
   * never later than the last frame, and a live link answers every tick's ping, so it is never
   * older than the last tick: the wall-clock check below keeps its meaning.
   */
  #lastInbound = 0
  #stamped = false
  #nextPingAt = 0
  /** When the oldest ping not yet followed by any frame was sent; null when every ping was answered. */
  #unansweredSince: number | null = null
  /** When the unanswered ping's time runs out (moved while the send buffer drains). */
  #deadline = 0
  /** `bufferedAmount` when the deadline was set: less of it later means bytes are leaving. */
  #bufferedAtDeadline = 0
  /** The deadline passed; the verdict waits one macrotask for a pong already in the socket. */
  #verifying = false
  /** When the ping awaiting its pong was sent, for latency. */
  #latencyFrom: number | null = null
  /** Our last ping as text: an echo server sends it back, and that echo is a pong. */
  #echo: string | null = null
  /** A pong (or an echo of a ping) arrived since `start()`: the server answers pings. */
  #answered = false

  constructor(
    options: ResolvedHeartbeatOptions,
    env: Pick<RealtimeEnvironment, 'setTimeout' | 'clearTimeout' | 'now'>,
    hooks: HeartbeatHooks,
  ) {
    this.#options = options
    this.#env = env
    this.#hooks = hooks
  }

  /** Did the server answer a ping on this link? (A quiet server never does.) */
  get answered(): boolean {
    return this.#answered
  }

  start(): void {
    this.stop()
    const now = (this.#lastInbound = this.#env.now())
    this.#stamped = true
    this.#answered = false
    this.#running = true
    this.#nextPingAt = now + this.#options.interval
    this.#arm(now)
  }

  stop(): void {
    this.#env.clearTimeout(this.#timer)
    this.#timer = this.#unansweredSince = this.#latencyFrom = this.#echo = null
    this.#verifying = this.#running = false
  }

  /** Any inbound frame is proof of life. Returns true when the frame is a pong (to swallow). */
  inbound(data: unknown): boolean {
    if (!this.#stamped) {
      this.#stamped = true
      this.#lastInbound = this.#env.now()
    }
    // No re-arm here: the timer sees the answer when it fires (no timer churn per frame).
    this.#unansweredSince = null
    const pong = (this.#echo !== null && data === this.#echo) || this.#isPong(data)
    if (!pong) return false
    this.#answered = true
    this.#echo = null
    if (this.#latencyFrom !== null) {
      this.#hooks.latency(this.#env.now() - this.#latencyFrom)
      this.#latencyFrom = null
    }
    return true
  }

  /** Ping now unless a ping is already unanswered (page became visible, or a long silence before a send). */
  probe(): void {
    if (this.#unansweredSince !== null || !this.#running) return
    const now = this.#env.now()
    this.#ping(now)
    this.#arm(now)
  }

  /**
   * Wall-clock check. Returns `'suspect'` when nothing arrived for longer than interval +
   * timeout (a probe is then under way) or when an unanswered ping is past its deadline (the
   * timer may have been throttled: the verdict is then taken at once, from a fresh macrotask);
   * else `'alive'`. Never declares the link dead synchronously.
   */
  check(): 'alive' | 'suspect' {
    if (!this.#running) return 'alive'
    const now = this.#env.now()
    this.#stamped = false
    const { interval, timeout } = this.#options
    if (this.#unansweredSince !== null && now >= this.#deadline) {
      if (!this.#verifying) this.#schedule(0)
      return 'suspect'
    }
    if (now - this.#lastInbound > interval + timeout) {
      this.probe()
      return 'suspect'
    }
    return 'alive'
  }

  #isPong(data: unknown): boolean {
    try {
      return this.#options.isPong(data)
    } catch (error) {
      this.#hooks.failed(error, 'heartbeat.isPong')
      return false
    }
  }

  #tick(): void {
    this.#timer = null
    const now = this.#env.now()
    this.#stamped = false
    if (this.#unansweredSince === null) this.#verifying = false
    else if (now >= this.#deadline) {
      const buffered = this.#hooks.bufferedAmount()
      if (this.#bufferedAtDeadline > 0 && buffered < this.#bufferedAtDeadline) {
        // Bytes ahead of the ping are still leaving: the ping may not have left yet.
        this.#deadline = now + this.#options.timeout
        this.#bufferedAtDeadline = buffered
        this.#verifying = false
      } else if (!this.#verifying) {
        // A busy event loop runs expired timers before it reads the socket: look again once
        // the pending I/O (a pong already received) has been handled.
        this.#verifying = true
        return this.#schedule(0)
      } else {
        this.stop()
        return this.#hooks.dead()
      }
    }
    if (now >= this.#nextPingAt) this.#ping(now)
    this.#arm(now)
  }

  /** Next wake-up: the next ping, or the unanswered ping's deadline if sooner. */
  #arm(now: number): void {
    const next = this.#unansweredSince === null ? this.#nextPingAt : Math.min(this.#nextPingAt, this.#deadline)
    this.#schedule(next - now)
  }

  #schedule(delay: number): void {
    this.#env.clearTimeout(this.#timer)
    this.#timer = this.#env.setTimeout(() => this.#tick(), Math.max(0, delay))
  }

  #ping(now: number): void {
    const { message, interval, timeout } = this.#options
    // The rhythm is the interval's, whatever the timeout: a server expects a ping per interval.
    this.#nextPingAt = now + interval
    let frame: WebSocketData
    try {
      frame = typeof message === 'function' ? message() : message
    } catch (error) {
      // Nothing was sent, so nothing is awaited: report and keep the rhythm.
      return this.#hooks.failed(error, 'heartbeat.message')
    }
    if (this.#unansweredSince === null) {
      this.#unansweredSince = now
      this.#deadline = now + timeout
      // Measured before the ping joins the buffer: the bytes the ping waits behind.
      this.#bufferedAtDeadline = this.#hooks.bufferedAmount()
      this.#latencyFrom = now
    }
    this.#echo = typeof frame === 'string' ? frame : null
    this.#hooks.ping(frame)
  }
}
