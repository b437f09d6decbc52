import type { HeartbeatOptions, RealtimeEnvironment, TimerHandle, WebSocketData } from './types'

export interface ResolvedHeartbeatOptions {
  message: WebSocketData | (() => WebSocketData)
  interval: number
  timeout: number
  isPong: (data: unknown) => boolean
}

/** Matches text `pong` or JSON `{"type":"pong", ...}` without parsing every inbound frame. */
export function defaultIsPong(data: unknown): boolean {
  if (typeof data !== 'string') return false
  if (data === 'pong') return true
  // A pong envelope is short; anything long is application data and skips the parse.
  if (data.length > 128 || data.charCodeAt(0) !== 123 /* { */ || !data.includes('"pong"')) return false
  try {
    const parsed = JSON.parse(data) as { type?: unknown }
    return parsed !== null && parsed.type === 'pong'
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
  const given = option === true || option === undefined ? {} : option
  const resolved: ResolvedHeartbeatOptions = {
    message: given.message ?? HEARTBEAT_DEFAULTS.message,
    interval: given.interval ?? HEARTBEAT_DEFAULTS.interval,
    timeout: given.timeout ?? HEARTBEAT_DEFAULTS.timeout,
    isPong: given.isPong ?? HEARTBEAT_DEFAULTS.isPong,
  }
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
 * Owns two timers; `stop()` clears both.
 */
export class Heartbeat {
  private pingTimer: TimerHandle | null = null
  private deadlineTimer: TimerHandle | null = null
  private lastInbound = 0
  /** Inbound frames counted; compared with `framesAtPing` (timestamps can tie within a millisecond). */
  private frames = 0
  private framesAtPing = 0
  /** When the unanswered ping (if any) was sent, for the deadline. */
  private pingSentAt: number | null = null
  /** When the ping awaiting its pong was sent, for latency. */
  private latencyFrom: number | null = null

  constructor(
    private readonly options: ResolvedHeartbeatOptions,
    private readonly env: Pick<RealtimeEnvironment, 'setTimeout' | 'clearTimeout' | 'now'>,
    private readonly hooks: HeartbeatHooks,
  ) {}

  start(): void {
    this.stop()
    this.lastInbound = this.env.now()
    this.schedulePing(this.options.interval)
  }

  stop(): void {
    if (this.pingTimer !== null) this.env.clearTimeout(this.pingTimer)
    if (this.deadlineTimer !== null) this.env.clearTimeout(this.deadlineTimer)
    this.pingTimer = this.deadlineTimer = null
    this.pingSentAt = this.latencyFrom = null
  }

  /** Any inbound frame is proof of life. Returns true when the frame is a pong (to swallow). */
  inbound(data: unknown): boolean {
    const now = this.env.now()
    this.lastInbound = now
    this.frames++
    if (!this.options.isPong(data)) return false
    if (this.latencyFrom !== null) {
      this.hooks.latency(now - this.latencyFrom)
      this.latencyFrom = null
    }
    return true
  }

  /** Ping now and start the deadline (page became visible, or a long silence before a send). */
  probe(): void {
    if (this.pingSentAt !== null) return
    this.sendPing()
  }

  /**
   * Wall-clock check. Returns `'dead'` when a ping has gone unanswered past its deadline
   * (the timer may have been throttled), `'suspect'` when nothing arrived for longer than
   * interval + timeout (a probe is then under way), else `'alive'`.
   */
  check(): 'alive' | 'suspect' | 'dead' {
    const now = this.env.now()
    if (this.awaitingProof && now - this.pingSentAt! >= this.options.timeout) {
      return 'dead'
    }
    if (now - this.lastInbound > this.options.interval + this.options.timeout) {
      this.probe()
      return 'suspect'
    }
    return 'alive'
  }

  /** Is a probe outstanding after a long silence (sends should wait for its answer)? */
  get awaitingProof(): boolean {
    return this.pingSentAt !== null && this.frames === this.framesAtPing
  }

  private schedulePing(delay: number): void {
    if (this.pingTimer !== null) this.env.clearTimeout(this.pingTimer)
    this.pingTimer = this.env.setTimeout(() => {
      this.pingTimer = null
      this.sendPing()
    }, Math.max(0, delay))
  }

  private sendPing(): void {
    const now = this.env.now()
    this.pingSentAt = now
    this.latencyFrom = now
    this.framesAtPing = this.frames
    const { message } = this.options
    if (this.deadlineTimer !== null) this.env.clearTimeout(this.deadlineTimer)
    this.deadlineTimer = this.env.setTimeout(() => this.deadline(), this.options.timeout)
    this.hooks.ping(typeof message === 'function' ? message() : message)
  }

  private deadline(): void {
    this.deadlineTimer = null
    const sentAt = this.pingSentAt
    if (sentAt === null) return
    if (this.frames > this.framesAtPing) {
      this.pingSentAt = null
      this.schedulePing(sentAt + this.options.interval - this.env.now())
      return
    }
    this.stop()
    this.hooks.dead()
  }
}
