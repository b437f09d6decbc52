import { WebSocket } from 'ws'
import { CloseCode, type ServerFrame } from '../core/protocol'
import { RateLimiter } from './limits'
import type { ServerContext } from './context'
import type { RealtimeClient } from './types'

/** One accepted connection: its socket, identity, subscriptions, liveness and rate budget. */
export class ClientConnection<User> implements RealtimeClient<User> {
  readonly topics = new Set<string>()
  lastSeen: number
  online = true
  /** Set once the socket is closing or closed: inbound frames are ignored from then on. */
  closing = false
  private readonly limiter: RateLimiter | null

  constructor(
    readonly id: string,
    readonly user: User | undefined,
    readonly socket: WebSocket,
    private readonly ctx: ServerContext<User>,
  ) {
    this.lastSeen = ctx.now()
    const limit = ctx.limits.rateLimit
    this.limiter = limit ? new RateLimiter(limit, this.lastSeen) : null
  }

  /** Counts one inbound frame against the rate limit; closes with 1008 when over it. */
  admitFrame(): boolean {
    if (this.closing) return false
    if (this.limiter && !this.limiter.take(this.ctx.now())) {
      this.close(CloseCode.PolicyViolation, this.limiter.reason())
      return false
    }
    return true
  }

  send(frame: ServerFrame): void {
    this.sendText(JSON.stringify(frame))
  }

  /** Sends an encoded text frame; a `Buffer` lets a broadcast encode its payload once for every subscriber. */
  sendText(text: string | Buffer): void {
    if (this.closing || this.socket.readyState !== WebSocket.OPEN) return
    if (this.socket.bufferedAmount > this.ctx.limits.maxBufferedAmount) {
      this.close(CloseCode.PolicyViolation, 'slow consumer: too many bytes waiting to be sent')
      return
    }
    this.socket.send(text, { binary: false })
  }

  close(code: number = CloseCode.Normal, reason = ''): void {
    if (this.closing) return
    this.closing = true
    try {
      this.socket.close(code, reason)
    } catch {
      // An invalid code or reason from a caller: still make sure the socket goes away.
      this.socket.terminate()
    }
  }

  terminate(): void {
    this.closing = true
    this.socket.terminate()
  }
}
