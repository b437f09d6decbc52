import { frameSize } from './serializer'
import type { OverflowStrategy, QueueOptions, WebSocketData } from './types'

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
  /** Epoch ms after which the entry must not be sent, or undefined. */
  expiresAt: number | undefined
}

/** Raised by `send` when the outbox is full and `queue.overflow` is `'error'`. */
export class OutboxFullError extends RangeError {
  constructor(max: number, maxBytes: number) {
    super(
      `vue-realtime: the send queue is full (${max} messages / ${maxBytes} bytes) while the socket is not open. ` +
        "Raise `queue.max`/`queue.maxBytes`, send with `{ volatile: true }`, or choose `queue.overflow: 'drop-oldest'`.",
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
  private entries: OutboxEntry[] = []
  private totalBytes = 0

  constructor(private readonly options: ResolvedQueueOptions) {}

  get size(): number {
    return this.entries.length
  }

  get bytes(): number {
    return this.totalBytes
  }

  /**
   * Queues `data`. Returns the entries dropped to make room (possibly the new one itself
   * under `'drop-newest'`, or when it alone exceeds `maxBytes`). Throws `OutboxFullError`
   * under `'error'` without changing the queue.
   */
  push(data: WebSocketData, now: number, ttl: number | undefined): OutboxEntry[] {
    const { max, maxBytes, overflow } = this.options
    const lifetime = ttl ?? this.options.ttl
    const entry: OutboxEntry = {
      data,
      bytes: frameSize(data),
      expiresAt: lifetime === undefined ? undefined : now + lifetime,
    }
    this.expire(now)
    const fits = () => this.entries.length < max && this.totalBytes + entry.bytes <= maxBytes
    if (fits()) return this.append(entry)
    if (entry.bytes > maxBytes || max === 0 || overflow === 'drop-newest') {
      if (overflow === 'error') throw new OutboxFullError(max, maxBytes)
      return [entry]
    }
    if (overflow === 'error') throw new OutboxFullError(max, maxBytes)
    const dropped: OutboxEntry[] = []
    while (!fits() && this.entries.length > 0) {
      const oldest = this.entries.shift()!
      this.totalBytes -= oldest.bytes
      dropped.push(oldest)
    }
    this.append(entry)
    return dropped
  }

  /** Removes and returns entries whose TTL has passed. */
  expire(now: number): OutboxEntry[] {
    if (this.entries.length === 0) return []
    const expired: OutboxEntry[] = []
    const kept: OutboxEntry[] = []
    for (const entry of this.entries) {
      if (entry.expiresAt !== undefined && entry.expiresAt <= now) expired.push(entry)
      else kept.push(entry)
    }
    if (expired.length > 0) {
      this.entries = kept
      for (const entry of expired) this.totalBytes -= entry.bytes
    }
    return expired
  }

  /** Oldest entry without removing it. */
  peek(): OutboxEntry | undefined {
    return this.entries[0]
  }

  shift(): OutboxEntry | undefined {
    const entry = this.entries.shift()
    if (entry) this.totalBytes -= entry.bytes
    return entry
  }

  clear(): OutboxEntry[] {
    const all = this.entries
    this.entries = []
    this.totalBytes = 0
    return all
  }

  private append(entry: OutboxEntry): OutboxEntry[] {
    this.entries.push(entry)
    this.totalBytes += entry.bytes
    return []
  }
}

export function resolveQueue(options: QueueOptions | undefined): ResolvedQueueOptions {
  const resolved = { ...QUEUE_DEFAULTS }
  if (options) {
    for (const key of Object.keys(options) as (keyof QueueOptions)[]) {
      const value = options[key]
      if (value !== undefined) (resolved as Record<string, unknown>)[key] = value
    }
  }
  const strategies: OverflowStrategy[] = ['drop-oldest', 'drop-newest', 'error']
  if (!strategies.includes(resolved.overflow)) {
    throw new RangeError(
      `vue-realtime: queue.overflow must be one of ${strategies.join(', ')} (got ${String(resolved.overflow)}).`,
    )
  }
  return resolved
}
