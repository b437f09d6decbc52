import { CloseCode, type ServerFrame } from '../core/protocol'
import { RateLimiter } from './limits'
import type { ServerContext } from './context'
import type { Held, RawSocket, WriteBatch } from './outbound'
import type { TransportSocket } from './transport'
import type { RealtimeClient } from './types'

/**
 * One topic of a connection: subscribed or not, and the subscribes and unsubscribes queued for
 * it. They run one after the other, so each gets exactly one answer, in order, and the last
 * answer is the state (bug 23: two racing subscribes left a ghost subscription).
 */
export interface TopicSlot {
  subscribed: boolean
  /** Operations queued or running for this topic. */
  queued: number
  tail: Promise<void>
}

/**
 * Where a connection's frames go, for a transport that can give the byte stream under its
 * WebSocket (the `ws` server): that socket, and the batch that writes it once per tick.
 */
export interface Outbound {
  raw: RawSocket
  batch: WriteBatch
}

/** One accepted connection: its socket, identity, subscriptions, liveness and rate budgets. */
export class ClientConnection<User> implements RealtimeClient<User>, Held {
  /** Topics subscribed or being subscribed: the keys of `slots`, counted against `maxTopicsPerConnection`. */
  readonly topics = new Set<string>()
  readonly slots = new Map<string, TopicSlot>()
  /** Topics where this client is announced as a presence member (it must leave them). */
  readonly present = new Set<string>()
  lastSeen: number
  online = true
  /** Set once the socket is closing or closed: inbound frames are ignored from then on. */
  closing = false
  private readonly limiter: RateLimiter | null
  /** New topics this connection may still create (`newTopicLimit`). */
  readonly newTopics: RateLimiter | null
  /** The raw socket is corked until the batch releases it at the end of this tick. */
  private held = false

  constructor(
    readonly id: string,
    readonly user: User | undefined,
    readonly socket: TransportSocket,
    private readonly ctx: ServerContext<User>,
    /** Without it (crossws, or a socket the server did not upgrade itself), every frame is the transport's own write. */
    private readonly outbound?: Outbound,
  ) {
    this.lastSeen = ctx.now()
    const limit = ctx.limits.rateLimit
    this.limiter = limit ? new RateLimiter(limit, this.lastSeen) : null
    const topics = ctx.limits.newTopicLimit
    this.newTopics = topics ? new RateLimiter({ messages: topics.topics, perMs: topics.perMs }, this.lastSeen) : null
  }

  /** Queues an operation on one topic behind the earlier ones; the slot goes away once idle and unsubscribed. */
  enqueue(topic: string, operation: (slot: TopicSlot) => Promise<void>): Promise<void> {
    let slot = this.slots.get(topic)
    if (!slot) {
      slot = { subscribed: false, queued: 0, tail: Promise.resolve() }
      this.slots.set(topic, slot)
      this.topics.add(topic)
    }
    const own = slot
    own.queued++
    const run = own.tail.then(() => operation(own))
    own.tail = run
      .catch(() => {})
      .then(() => {
        own.queued--
        if (own.queued === 0 && !own.subscribed && this.slots.get(topic) === own) {
          this.slots.delete(topic)
          this.topics.delete(topic)
        }
      })
    return run
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
    if (!this.writable()) return
    this.hold()
    this.socket.send(text)
  }

  /**
   * Sends a whole frame encoded once for many subscribers (`encodeTextFrame(payload)`): written
   * to the raw socket as is, with no header, options or buffers made per subscriber. `ws` writes
   * each of its own frames (replies, pongs, close) in one piece and, without compression,
   * without queueing them, so frames from both paths never interleave and keep their order.
   * A transport without a raw socket sends `payload` as its own frame.
   */
  sendFrame(frame: Buffer, payload: Buffer): void {
    if (!this.writable()) return
    if (!this.outbound) return this.socket.send(payload)
    this.hold()
    this.outbound.raw.write(frame)
  }

  /** Open and keeping up; a client that lets too much pile up is closed as a slow consumer. */
  private writable(): boolean {
    if (this.closing || !this.socket.isOpen()) return false
    // The raw socket's buffer counts here too, corked frames included.
    if (this.socket.bufferedAmount > this.ctx.limits.maxBufferedAmount) {
      this.close(CloseCode.PolicyViolation, 'slow consumer: too many bytes waiting to be sent')
      return false
    }
    return true
  }

  /** Corks the raw socket until the end of the tick, once per tick: what is sent meanwhile leaves in one write. */
  private hold(): void {
    if (this.held || !this.outbound) return
    this.held = true
    this.outbound.raw.cork()
    this.outbound.batch.add(this)
  }

  /** End of the tick (or a terminate): the frames held leave now. */
  release(): void {
    if (!this.held) return
    this.held = false
    if (!this.outbound?.raw.destroyed) this.outbound?.raw.uncork()
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
    // What was sent this tick still goes out first, as it did before frames were batched.
    this.release()
    this.socket.terminate()
  }
}
