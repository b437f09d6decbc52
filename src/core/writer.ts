import { Outbox, type OutboxEntry, type ResolvedQueueOptions } from './outbox'
import type { RealtimeEnvironment, SendOptions, SendResult, TimerHandle, WebSocketData, WebSocketLike } from './types'

/** While the link is suspect or congested, look again this often. */
const DRAIN_POLL_MS = 50

/** Told once whether a frame given to `sendFrame` was written: `true` written, `false` never written. */
export type FrameSettled = (written: boolean) => void

/** A frame of `sendFrame` waiting on the socket in hand. */
export interface WaitingFrame {
  data: WebSocketData
  settled: FrameSettled | undefined
}

export type DropReason = 'overflow' | 'ttl' | 'closed'

/** What the writer asks of its connection. */
export interface WriterHost {
  /** The socket a write may go to now (open, and the connection open), else null. */
  openSocket(): WebSocketLike | null
  /** Is the link proven alive? (A wall-clock heartbeat check, which may start a probe.) */
  alive(): boolean
  /** Writes to the socket in hand; false when the socket threw (the host reports it). */
  write(data: WebSocketData): boolean
  /** The queue or the counters changed: `now` to publish at once, else folded (about once a frame). */
  changed(now: boolean): void
  /** Messages were dropped (already counted): say why. */
  dropped(count: number, reason: DropReason): void
  /** A `settled` callback threw. */
  failed(error: unknown): void
}

/**
 * The connection's write path. Messages of `send` that cannot be written now go to the outbox
 * (bounded, in order, kept across sockets); frames of `sendFrame` wait on the socket in hand
 * only. Both are written once the link is proven alive and not congested: at the next poll,
 * or at once when a frame arrives. Counts what it wrote and what it dropped: nothing goes
 * silently. Owns one timer, the drain poll; `cut()` clears it.
 */
export class Writer {
  /** Frames written (heartbeats excluded). */
  sent = 0
  /** Messages dropped: overflow, ttl, volatile ones not written, queued ones discarded. */
  dropped = 0
  readonly #outbox: Outbox
  readonly #options: ResolvedQueueOptions
  readonly #env: Pick<RealtimeEnvironment, 'setTimeout' | 'clearTimeout' | 'now'>
  readonly #host: WriterHost
  #frames: WaitingFrame[] = []
  #poll: TimerHandle = null

  constructor(options: ResolvedQueueOptions, env: Pick<RealtimeEnvironment, 'setTimeout' | 'clearTimeout' | 'now'>, host: WriterHost) {
    this.#options = options
    this.#env = env
    this.#host = host
    this.#outbox = new Outbox(options)
  }

  /** Messages in the outbox. */
  get queued(): number {
    return this.#outbox.size
  }

  /**
   * See `Connection.send`; `tag` stays with the message while it is queued (see `take`), and
   * `gone` is told the tags of what left the outbox to take this one (expired, or overflowed).
   */
  send(data: WebSocketData, options: SendOptions, tag?: unknown, gone?: (tags: unknown[]) => void): SendResult {
    if (this.#outbox.size === 0 && this.#frames.length === 0 && this.#writable()) {
      if (this.#host.write(data)) return this.#wrote(1), 'sent'
    } else if (!options.volatile) {
      const result = this.#enqueue(data, options.ttl, tag, gone)
      if (this.#host.openSocket()) this.#schedule()
      return result
    }
    this.dropped++
    this.#host.changed(true)
    return 'dropped'
  }

  /** See `Connection.sendFrame`. */
  sendFrame(data: WebSocketData, settled: FrameSettled | undefined): SendResult {
    const frame: WaitingFrame = { data, settled }
    if (!this.#host.openSocket()) {
      this.settle([frame], false)
      return 'dropped'
    }
    if (this.#outbox.size === 0 && this.#frames.length === 0 && this.#writable()) {
      const written = this.#host.write(data)
      if (written) this.#wrote(1)
      this.settle([frame], written)
      return written ? 'sent' : 'dropped'
    }
    this.#frames.push(frame)
    this.#schedule()
    return 'queued'
  }

  /** Writes queued messages, then waiting frames, in order while the socket is open and not congested. */
  flush(): void {
    const socket = this.#host.openSocket()
    if (!socket) return
    const expired = this.#outbox.expire(this.#env.now()).length
    if (expired > 0) this.#drop(expired, 'ttl')
    let wrote = 0
    let failed = 0
    while (this.#outbox.size > 0 && this.#host.openSocket() === socket && socket.bufferedAmount <= this.#options.highWaterMark) {
      if (this.#host.write(this.#outbox.shift()!.data)) wrote++
      else failed++
    }
    if (wrote > 0 || failed > 0) this.#host.changed(true)
    this.#wrote(wrote)
    if (failed > 0) this.#drop(failed, 'closed')
    while (this.#outbox.size === 0 && this.#frames.length > 0 && this.#host.openSocket() === socket && socket.bufferedAmount <= this.#options.highWaterMark) {
      const frame = this.#frames.shift()!
      const written = this.#host.write(frame.data)
      if (written) this.#wrote(1)
      this.settle([frame], written)
    }
    if (this.#host.openSocket() === socket && (this.#outbox.size > 0 || this.#frames.length > 0)) this.#schedule()
  }

  /** A frame arrived, which answers a probe: write what waits now rather than at the next poll. */
  poke(): void {
    if (this.#poll !== null) this.#drain()
  }

  /**
   * The socket in hand ended: stop polling. Returns the frames that waited on it, never
   * written: the caller settles them (`settle(frames, false)`) once its own state is complete.
   */
  cut(): WaitingFrame[] {
    this.#env.clearTimeout(this.#poll)
    this.#poll = null
    return this.#frames.splice(0)
  }

  /** Tells each frame's caller whether it was written (a throwing callback is reported). */
  settle(frames: WaitingFrame[], written: boolean): void {
    for (const frame of frames) {
      try {
        frame.settled?.(written)
      } catch (error) {
        this.#host.failed(error)
      }
    }
  }

  /** Removes what is queued and returns it, uncounted: the caller now owns it (expired entries are dropped and counted). */
  take(): OutboxEntry[] {
    const expired = this.#outbox.expire(this.#env.now()).length
    if (expired > 0) this.#drop(expired, 'ttl')
    const taken: OutboxEntry[] = []
    for (let entry = this.#outbox.shift(); entry; entry = this.#outbox.shift()) taken.push(entry)
    if (taken.length > 0) this.#host.changed(true)
    return taken
  }

  /** The connection is closed for good: what is still queued is dropped, counted and reported. */
  discard(): void {
    const left = this.#outbox.size
    if (left === 0) return
    this.#outbox.clear()
    this.#drop(left, 'closed')
  }

  /** Open, alive, not congested: a write goes out now. */
  #writable(): boolean {
    const socket = this.#host.openSocket()
    return socket !== null && this.#host.alive() && socket.bufferedAmount <= this.#options.highWaterMark
  }

  #enqueue(data: WebSocketData, ttl: number | undefined, tag: unknown, gone?: (tags: unknown[]) => void): SendResult {
    const { accepted, overflowed, expired } = this.#outbox.push(data, this.#env.now(), ttl, tag)
    this.#host.changed(true)
    if (expired.length > 0) this.#drop(expired.length, 'ttl')
    if (overflowed.length > 0) this.#drop(overflowed.length, 'overflow')
    // Once counted, so that whoever is told can tell the count with it.
    if (gone && expired.length + overflowed.length > 0) gone([...expired, ...overflowed].map((entry) => entry.tag))
    return accepted ? 'queued' : 'dropped'
  }

  #schedule(): void {
    this.#poll ??= this.#env.setTimeout(() => this.#drain(), DRAIN_POLL_MS)
  }

  /** Writes what waits if the link is proven alive; else looks again later. */
  #drain(): void {
    this.#env.clearTimeout(this.#poll)
    this.#poll = null
    if (!this.#host.openSocket()) return
    if (!this.#host.alive()) return this.#schedule()
    this.flush()
  }

  #drop(count: number, reason: DropReason): void {
    this.dropped += count
    this.#host.dropped(count, reason)
  }

  #wrote(count: number): void {
    if (count === 0) return
    this.sent += count
    this.#host.changed(false)
  }
}
