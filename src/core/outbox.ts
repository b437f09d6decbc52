import { withDefaults } from './defaults'
import { frameSize } from './serializer'
import type { QueueOptions, WebSocketData } from './types'

export type ResolvedQueueOptions = Required<Omit<QueueOptions, 'ttl'>> & Pick<QueueOptions, 'ttl'>

export const QUEUE_DEFAULTS: ResolvedQueueOptions = {
  max: 1000,
  maxBytes: 1_048_576,
  overflow: 'drop-oldest',
  ttl: undefined,
  // Above 1 MiB unsent in the socket's own buffer the link is not keeping up; holding
  // further messages in the outbox keeps them droppable by TTL and bounded by `max`.
  highWaterMark: 1_048_576,
}

export interface OutboxEntry {
  data: WebSocketData
  bytes: number
  /** Epoch ms after which the entry must not be sent; Infinity without a ttl. */
  expiresAt: number
  /** Who sent it, for a caller that hands unsent entries back (see `takeQueued` in connection.ts). */
  tag?: unknown
}

export interface PushResult {
  /** The new message is in the queue. */
  accepted: boolean
  /** Dropped by the overflow strategy (possibly the new message itself). */
  overflowed: OutboxEntry[]
  /** Dropped because their TTL passed. */
  expired: OutboxEntry[]
}

/** Raised by `send` when the outbox is full and `queue.overflow` is `'error'`. */
export class OutboxFullError extends RangeError {
  constructor(max: number, maxBytes: number) {
    super(
      `vue-realtime: the send queue is full (${max} messages / ${maxBytes} bytes)` +
        (process.env.NODE_ENV !== 'production'
            ? " while the socket is not open. Raise `queue.max`/`queue.maxBytes`, send with `{ volatile: true }`, or choose `queue.overflow: 'drop-oldest'`."
          : ''),
    )
    this.name = 'OutboxFullError'
  }
}

/**
 * Messages sent while the socket is not open (or is congested), flushed in order on open.
 * Bounded by count and bytes; what does not fit is dropped by the overflow strategy and
 * returned to the caller, which counts it and reports it: nothing is dropped silently.
 */
export class Outbox {
  readonly #options: ResolvedQueueOptions
  #entries: OutboxEntry[] = []
  #bytes = 0

  constructor(options: ResolvedQueueOptions) {
    this.#options = options
  }

  get size(): number {
    return this.#entries.length
  }

  /**
   * Queues `data`. Says whether it was accepted, which entries were dropped to make room
   * (the new one itself under `'drop-newest'`, or when it alone exceeds `maxBytes`), and which
   * had expired meanwhile: the caller counts and reports both, nothing goes silently.
   * Throws `OutboxFullError` under `'error'` without changing the queue.
   */
  push(data: WebSocketData, now: number, ttl: number | undefined, tag?: unknown): PushResult {
    const { max, maxBytes, overflow } = this.#options
    const entry: OutboxEntry = { data, bytes: frameSize(data), expiresAt: now + (ttl ?? this.#options.ttl ?? Infinity), tag }
    const expired = this.expire(now)
    const fits = () => this.#entries.length < max && this.#bytes + entry.bytes <= maxBytes
    const overflowed: OutboxEntry[] = []
    if (!fits()) {
      if (overflow === 'error') throw new OutboxFullError(max, maxBytes)
      if (entry.bytes > maxBytes || max === 0 || overflow === 'drop-newest') return { accepted: false, overflowed: [entry], expired }
      while (!fits() && this.#entries.length > 0) overflowed.push(this.shift()!)
    }
    this.#entries.push(entry)
    this.#bytes += entry.bytes
    return { accepted: true, overflowed, expired }
  }

  /** Removes and returns entries whose TTL has passed. */
  expire(now: number): OutboxEntry[] {
    const expired = this.#entries.filter((entry) => entry.expiresAt <= now)
    if (expired.length > 0) {
      this.#entries = this.#entries.filter((entry) => entry.expiresAt > now)
      for (const entry of expired) this.#bytes -= entry.bytes
    }
    return expired
  }

  shift(): OutboxEntry | undefined {
    const entry = this.#entries.shift()
    if (entry) this.#bytes -= entry.bytes
    return entry
  }

  clear(): void {
    this.#entries = []
    this.#bytes = 0
  }
}

export function resolveQueue(options: QueueOptions | undefined): ResolvedQueueOptions {
  const resolved = withDefaults(QUEUE_DEFAULTS, options)
  if (!['drop-oldest', 'drop-newest', 'error'].includes(resolved.overflow)) {
    throw new RangeError(
      `vue-realtime: queue.overflow must be 'drop-oldest', 'drop-newest' or 'error' (got ${String(resolved.overflow)}).`,
    )
  }
  return resolved
}
