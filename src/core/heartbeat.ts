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

interface HeartbeatHooks {
  /** Write a ping frame to the socket. */
  ping(data: WebSocketData): void
  /** No frame arrived within `timeout` of a ping: the link is dead. */
  dead(): void
  /** A pong answered the outstanding ping after `ms`. */
  latency(ms: number): void
}

/**
 * Application-level keep-alive for one open socket. Pings every `interval`; if no frame at
 * all arrives within `timeout` of a ping, the link is declared dead. Inbound frames only
 * record a timestamp (no timer churn under a firehose). Because background tabs throttle
 * timers and laptops sleep, the wall clock is also checked on demand (`check`).
 * Owns one timer (the next ping, or the deadline of the ping in flight); `stop()` clears it.
 */
export class Heartbeat {
  readonly #options: ResolvedHeartbeatOptions
  readonly #env: Pick<RealtimeEnvironment, 'setTimeout' | 'clearTimeout' | 'now'>
  readonly #hooks: HeartbeatHooks
  #timer: TimerHandle = null
  #lastInbound = 0
  /** Inbound frames counted; compared with `framesAtPing` (timestamps can tie within a millisecond). */
  #frames = 0
  #framesAtPing = 0
  /** When the unanswered ping (if any) was sent, for the deadline. */
  #pingSentAt: number | null = null
  /** When the ping awaiting its pong was sent, for latency. */
  #latencyFrom: number | null = null

  constructor(
    options: ResolvedHeartbeatOptions,
    env: Pick<RealtimeEnvironment, 'setTimeout' | 'clearTimeout' | 'now'>,
    hooks: HeartbeatHooks,
  ) {
    this.#options = options
    this.#env = env
    this.#hooks = hooks
  }

  start(): void {
    this.stop()
    this.#lastInbound = this.#env.now()
    this.#schedule(this.#options.interval, () => this.#ping())
  }

  stop(): void {
    this.#env.clearTimeout(this.#timer)
    this.#timer = this.#pingSentAt = this.#latencyFrom = null
  }

  /** Any inbound frame is proof of life. Returns true when the frame is a pong (to swallow). */
  inbound(data: unknown): boolean {
    const now = (this.#lastInbound = this.#env.now())
    this.#frames++
    if (!this.#options.isPong(data)) return false
    if (this.#latencyFrom !== null) {
      this.#hooks.latency(now - this.#latencyFrom)
      this.#latencyFrom = null
    }
    return true
  }

  /** Ping now and start the deadline (page became visible, or a long silence before a send). */
  probe(): void {
    if (this.#pingSentAt === null) this.#ping()
  }

  /**
   * Wall-clock check. Returns `'dead'` when a ping has gone unanswered past its deadline
   * (the timer may have been throttled), `'suspect'` when nothing arrived for longer than
   * interval + timeout (a probe is then under way), else `'alive'`.
   */
  check(): 'alive' | 'suspect' | 'dead' {
    const now = this.#env.now()
    const { interval, timeout } = this.#options
    if (this.awaitingProof && now - this.#pingSentAt! >= timeout) return 'dead'
    if (now - this.#lastInbound > interval + timeout) {
      this.probe()
      return 'suspect'
    }
    return 'alive'
  }

  /** Is a probe outstanding after a long silence (sends should wait for its answer)? */
  get awaitingProof(): boolean {
    return this.#pingSentAt !== null && this.#frames === this.#framesAtPing
  }

  #schedule(delay: number, fn: () => void): void {
    this.#env.clearTimeout(this.#timer)
    this.#timer = this.#env.setTimeout(fn, Math.max(0, delay))
  }

  #ping(): void {
    const { message, timeout } = this.#options
    const sentAt = (this.#pingSentAt = this.#latencyFrom = this.#env.now())
    this.#framesAtPing = this.#frames
    this.#schedule(timeout, () => {
      if (this.#frames === this.#framesAtPing) {
        this.stop()
        return this.#hooks.dead()
      }
      // Something arrived since the ping: alive. The next ping keeps the interval's rhythm.
      this.#pingSentAt = null
      this.#schedule(sentAt + this.#options.interval - this.#env.now(), () => this.#ping())
    })
    this.#hooks.ping(typeof message === 'function' ? message() : message)
  }
}
