import type { FrameId } from '../core/protocol'

/** Per-connection rate limit: a token bucket of `messages` tokens refilled over `perMs`. */
export interface RateLimit {
  /** Frames allowed in a burst and per window. */
  messages: number
  /** Window length, ms. */
  perMs: number
}

export class RateLimiter {
  private tokens: number
  private last: number

  constructor(
    private readonly limit: RateLimit,
    now: number,
  ) {
    this.tokens = limit.messages
    this.last = now
  }

  /** Takes one token; false when the bucket is empty (the caller closes with 1008). */
  take(now: number): boolean {
    const elapsed = Math.max(0, now - this.last)
    this.last = now
    this.tokens = Math.min(this.limit.messages, this.tokens + (elapsed * this.limit.messages) / this.limit.perMs)
    if (this.tokens < 1) return false
    this.tokens -= 1
    return true
  }

  /** The close reason naming the limit (fits the 123-byte close reason budget). */
  reason(): string {
    return `rate limit: more than ${this.limit.messages} frames per ${this.limit.perMs} ms`
  }
}

/** A bounded map from client message id to the sequence it was stored under; oldest forgotten first. */
export class DedupeWindow {
  private readonly seen = new Map<string, number>()

  constructor(private readonly size: number) {}

  private static key(id: FrameId): string {
    // Numbers and strings are different ids: 1 and "1" never collide.
    return typeof id === 'number' ? `n${id}` : `s${id}`
  }

  get(id: FrameId): number | undefined {
    return this.seen.get(DedupeWindow.key(id))
  }

  remember(id: FrameId, seq: number): void {
    if (this.size <= 0) return
    const key = DedupeWindow.key(id)
    this.seen.delete(key)
    this.seen.set(key, seq)
    if (this.seen.size > this.size) {
      const oldest = this.seen.keys().next()
      if (!oldest.done) this.seen.delete(oldest.value)
    }
  }
}
