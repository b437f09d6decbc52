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

  private refill(now: number): void {
    const elapsed = Math.max(0, now - this.last)
    this.last = now
    this.tokens = Math.min(this.limit.messages, this.tokens + (elapsed * this.limit.messages) / this.limit.perMs)
  }

  /** Takes one token; false when the bucket is empty (the caller closes with 1008). */
  take(now: number): boolean {
    this.refill(now)
    if (this.tokens < 1) return false
    this.tokens -= 1
    return true
  }

  /** Whether a token is there, without taking it. */
  available(now: number): boolean {
    this.refill(now)
    return this.tokens >= 1
  }

  /** The close reason naming the limit (fits the 123-byte close reason budget). */
  reason(): string {
    return `rate limit: more than ${this.limit.messages} frames per ${this.limit.perMs} ms`
  }
}
