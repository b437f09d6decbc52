import type { Connection } from './connection'
import { resolveEnvironment } from './environment'
import {
  PROTOCOL,
  parseServerFrame,
  isValidTopic,
  type AckFrame,
  type ErrorFrame,
  type FrameId,
  type MessageFrame,
  type PresenceFrame,
  type SubscribedFrame,
  type WelcomeFrame,
} from './protocol'
import type { ConnectionOptions, RealtimeEnvironment, Serializer, TimerHandle } from './types'

/** How long `publish` and `request` wait for the server's answer by default, ms. */
export const DEFAULT_ANSWER_TIMEOUT = 10_000

/** An error the server sent (`error` frame or `response.error`), or a client-side timeout/close. */
export class RealtimeProtocolError extends Error {
  constructor(
    /** Protocol error code (`forbidden`, `invalid_topic`, `timeout`, `closed`...). */
    readonly code: string,
    message: string,
  ) {
    super(message)
    this.name = 'RealtimeProtocolError'
  }
}

/** Callbacks of one subscriber of a topic. */
export interface TopicListener {
  message?(frame: MessageFrame): void
  subscribed?(frame: SubscribedFrame): void
  presence?(frame: PresenceFrame): void
  /** A server error about this topic (e.g. `forbidden`, `too_many_topics`). */
  error?(error: RealtimeProtocolError): void
  /** The replay after a reconnect could not cover the gap: reload a snapshot. */
  gap?(info: { topic: string; since: number; head: number }): void
}

export interface SubscribeOptions {
  /** On first subscribe, replay the last `history` messages. @default 0 */
  history?: number
}

export interface PublishOptions {
  /** Client message id; resending the same id never duplicates. @default a random id */
  id?: string
  /** Broadcast only: not stored, not replayed, no sequence number. @default false */
  ephemeral?: boolean
  /** Reject if no ack arrives within this long, ms. @default 10_000 */
  timeout?: number
}

export interface RequestOptions {
  /** Reject if no response arrives within this long, ms. @default 10_000 */
  timeout?: number
}

interface TopicState {
  /** Highest sequence number delivered for this topic (0 = none yet). */
  lastSeq: number
  /** Set once any subscribe was sent: later ones send `since`. */
  joined: boolean
  /** `since` of the last subscribe sent (replayed frames move `lastSeq` before `subscribed` arrives). */
  since: number
  history: number
  listeners: Set<TopicListener>
}

interface Pending {
  frame: string
  sent: boolean
  timer: TimerHandle
  resolve(value: unknown): void
  reject(error: RealtimeProtocolError): void
  /** Requests are not resent after a reconnect (they may have run); publishes are (the server dedupes). */
  resend: boolean
}

/** The connection options the protocol needs: its subprotocol, JSON pings, raw text frames. */
export const protocolConnectionOptions: ConnectionOptions<unknown, unknown> = {
  protocols: PROTOCOL,
  heartbeat: { message: '{"type":"ping"}' },
  // Frames are parsed (and validated) once, by the protocol client.
  serializer: { encode: (value) => (typeof value === 'string' ? value : JSON.stringify(value)), decode: (data) => data } satisfies Serializer<unknown, unknown>,
}

let counter = 0
/** A unique message or request id: a UUID where `crypto.randomUUID` exists. */
export function randomId(): string {
  const c = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto
  if (c?.randomUUID) return c.randomUUID()
  counter = (counter + 1) % 1_000_000
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}-${counter}`
}

const clients = new WeakMap<Connection, ProtocolClient>()

/**
 * Speaks the vue-realtime protocol (docs/protocol.md) over one `Connection`: topic
 * subscriptions that rejoin from their last sequence after a reconnect (dropping
 * duplicates), acknowledged publishes that are resent with the same id until acked, and
 * requests with timeouts. Everything pending rejects when the connection is closed by the
 * user or fails for good: nothing hangs.
 */
export class ProtocolClient {
  /** The one protocol client of `connection` (created on first use). */
  static for(connection: Connection): ProtocolClient {
    let client = clients.get(connection)
    if (!client) {
      client = new ProtocolClient(connection)
      clients.set(connection, client)
    }
    return client
  }

  /** Assigned by the server's `welcome`. */
  clientId: string | null = null
  user: unknown = undefined
  /** Frames that failed validation and were dropped. */
  invalidFrames = 0

  private readonly topics = new Map<string, TopicState>()
  private readonly pending = new Map<FrameId, Pending>()
  private readonly env: RealtimeEnvironment
  private readonly errorListeners = new Set<(error: RealtimeProtocolError) => void>()
  private readonly welcomeListeners = new Set<(frame: WelcomeFrame) => void>()
  private readonly stops: (() => void)[]

  constructor(readonly connection: Connection) {
    this.env = resolveEnvironment(connection.options.environment)
    this.stops = [
      connection.on('open', () => this.onOpen()),
      connection.on('message', (data) => this.onFrame(data)),
      connection.on('close', () => this.onSocketLost()),
      connection.on('state', (state) => {
        if (state.status === 'closed') this.rejectAll('closed', 'the connection was closed')
        else if (state.status === 'failed') this.rejectAll('failed', `the connection failed (${state.lastClose?.name ?? 'retries exhausted'})`)
      }),
    ]
  }

  /** Subscribes to `topic`; returns the remover (the last remover unsubscribes). */
  subscribe(topic: string, listener: TopicListener, options: SubscribeOptions = {}): () => void {
    if (!isValidTopic(topic)) {
      throw new TypeError(
        `vue-realtime: invalid topic ${JSON.stringify(topic)}. Use 1–128 letters, digits or ": _ - . /".`,
      )
    }
    let state = this.topics.get(topic)
    if (!state) {
      state = { lastSeq: 0, joined: false, since: 0, history: options.history ?? 0, listeners: new Set() }
      this.topics.set(topic, state)
    }
    state.listeners.add(listener)
    if (state.listeners.size === 1) this.sendSubscribe(topic, state)
    return () => {
      const current = this.topics.get(topic)
      if (!current || !current.listeners.delete(listener) || current.listeners.size > 0) return
      this.topics.delete(topic)
      this.write({ type: 'unsubscribe', topic })
    }
  }

  /** Last sequence number delivered for `topic` (0 = none). */
  lastSeq(topic: string): number {
    return this.topics.get(topic)?.lastSeq ?? 0
  }

  /**
   * Publishes `data` to `topic`; resolves with the server's ack. While the link is down
   * the publish waits and is (re)sent after every reconnect with the same id until acked;
   * the server drops duplicates by id, so it is shown exactly once.
   */
  publish<T>(topic: string, data: T, options: PublishOptions = {}): Promise<AckFrame> {
    const id = options.id ?? randomId()
    const frame = { type: 'publish', topic, id, data, ...(options.ephemeral ? { ephemeral: true } : {}) }
    return this.track<AckFrame>(id, frame, options.timeout, true, `publish to "${topic}"`)
  }

  /** Sends a request to the server's `onRequest(method, data)`; resolves with its response. */
  request<R = unknown>(method: string, data?: unknown, options: RequestOptions = {}): Promise<R> {
    const id = randomId()
    return this.track<R>(id, { type: 'request', id, method, data }, options.timeout, false, `request "${method}"`)
  }

  /** Errors not tied to a topic or a pending call (bad frames, server errors). */
  onError(listener: (error: RealtimeProtocolError) => void): () => void {
    this.errorListeners.add(listener)
    return () => this.errorListeners.delete(listener)
  }

  onWelcome(listener: (frame: WelcomeFrame) => void): () => void {
    this.welcomeListeners.add(listener)
    return () => this.welcomeListeners.delete(listener)
  }

  /** Detaches from the connection and rejects everything pending. */
  dispose(): void {
    for (const stop of this.stops) stop()
    this.rejectAll('closed', 'the protocol client was disposed')
    this.topics.clear()
    clients.delete(this.connection)
  }

  // ── internals ────────────────────────────────────────────────────────────────

  private track<R>(id: FrameId, frame: object, timeout = DEFAULT_ANSWER_TIMEOUT, resend: boolean, what: string): Promise<R> {
    let text: string
    try {
      text = JSON.stringify(frame)
    } catch (cause) {
      return Promise.reject(
        new TypeError(`vue-realtime: ${what} could not be JSON-encoded (${(cause as Error).message}); send plain data.`, { cause }),
      )
    }
    const { status } = this.connection.state
    if (status === 'closed' || status === 'failed') {
      return Promise.reject(new RealtimeProtocolError(status, `vue-realtime: ${what} failed: the connection is ${status}. Call open() or reconnect() first.`))
    }
    return new Promise<R>((resolve, reject) => {
      const entry: Pending = {
        frame: text,
        sent: false,
        resend,
        resolve: resolve as (value: unknown) => void,
        reject,
        timer: this.env.setTimeout(() => {
          this.pending.delete(id)
          reject(
            new RealtimeProtocolError(
              'timeout',
              `vue-realtime: ${what} got no answer within ${timeout} ms (connection ${this.connection.state.status}). ` +
                'It may still arrive; retry with the same id to avoid a duplicate.',
            ),
          )
        }, timeout),
      }
      this.pending.set(id, entry)
      if (this.connection.state.status === 'open') this.sendPending(entry)
    })
  }

  private sendPending(entry: Pending): void {
    // Written once on this socket (after a probe or a drain if need be), or reported unwritten
    // when the socket is lost first: then the next open sends it again.
    this.connection.sendFrame(entry.frame, (written) => {
      entry.sent = written
    })
  }

  private settle(id: FrameId, outcome: { value: unknown } | { error: RealtimeProtocolError }): boolean {
    const entry = this.pending.get(id)
    if (!entry) return false
    this.pending.delete(id)
    this.env.clearTimeout(entry.timer)
    if ('error' in outcome) entry.reject(outcome.error)
    else entry.resolve(outcome.value)
    return true
  }

  private rejectAll(code: string, why: string): void {
    for (const [id] of [...this.pending]) {
      this.settle(id, { error: new RealtimeProtocolError(code, `vue-realtime: ${why} before the server answered.`) })
    }
  }

  private write(frame: object): void {
    // A frame lost with its socket needs no resend: every open rejoins every topic.
    if (this.connection.state.status === 'open') this.connection.sendFrame(JSON.stringify(frame))
  }

  private sendSubscribe(topic: string, state: TopicState): void {
    if (this.connection.state.status !== 'open') return
    const frame: Record<string, unknown> = { type: 'subscribe', topic }
    state.since = state.lastSeq
    if (state.joined) frame.since = state.lastSeq
    else if (state.history > 0) frame.history = state.history
    state.joined = true
    this.write(frame)
  }

  private onOpen(): void {
    // Rejoin every topic from its last sequence, then resend what was never acked, in order.
    for (const [topic, state] of this.topics) this.sendSubscribe(topic, state)
    for (const entry of this.pending.values()) {
      if (!entry.sent || entry.resend) this.sendPending(entry)
    }
  }

  private onSocketLost(): void {
    for (const [id, entry] of [...this.pending]) {
      if (entry.sent && !entry.resend) {
        this.settle(id, {
          error: new RealtimeProtocolError(
            'connection_lost',
            'vue-realtime: the connection was lost before the server answered the request; it may or may not have run.',
          ),
        })
      } else entry.sent = false
    }
  }

  private onFrame(data: unknown): void {
    if (typeof data !== 'string') return this.invalid('binary frame', 'binary_not_supported')
    const parsed = parseServerFrame(data)
    if (!parsed.ok) return this.invalid(parsed.error.message, parsed.error.code)
    const frame = parsed.frame
    switch (frame.type) {
      case 'welcome':
        this.clientId = frame.clientId
        this.user = frame.user
        for (const listener of this.welcomeListeners) listener(frame)
        return
      case 'message': {
        const state = this.topics.get(frame.topic)
        if (!state) return
        if (frame.seq !== undefined) {
          if (frame.seq <= state.lastSeq) return // a replayed duplicate: already shown
          state.lastSeq = frame.seq
        }
        for (const listener of state.listeners) listener.message?.(frame)
        return
      }
      case 'subscribed': {
        const state = this.topics.get(frame.topic)
        if (!state) return
        const since = state.since
        // A head below what we saw means the server lost history (a reset store): follow its
        // numbering from here, or every new message would look like a duplicate.
        state.lastSeq = frame.seq
        for (const listener of state.listeners) listener.subscribed?.(frame)
        if (!frame.recovered) {
          for (const listener of state.listeners) listener.gap?.({ topic: frame.topic, since, head: frame.seq })
        }
        return
      }
      case 'presence': {
        const state = this.topics.get(frame.topic)
        if (state) for (const listener of state.listeners) listener.presence?.(frame)
        return
      }
      case 'ack':
        this.settle(frame.id, { value: frame })
        return
      case 'response':
        this.settle(
          frame.id,
          frame.error
            ? { error: new RealtimeProtocolError(frame.error.code, `vue-realtime: the server answered with ${frame.error.code}: ${frame.error.message}`) }
            : { value: frame.data },
        )
        return
      case 'error':
        return this.serverError(frame)
      default:
        return // pong is swallowed by the heartbeat; unsubscribed needs no action
    }
  }

  private serverError(frame: ErrorFrame): void {
    const error = new RealtimeProtocolError(frame.code, `vue-realtime: the server refused ${frame.frame ?? 'a frame'}${frame.topic ? ` on "${frame.topic}"` : ''}: ${frame.message} (${frame.code})`)
    if (frame.ref !== undefined && this.settle(frame.ref, { error })) return
    const state = frame.topic ? this.topics.get(frame.topic) : undefined
    if (state) {
      for (const listener of state.listeners) listener.error?.(error)
      return
    }
    for (const listener of this.errorListeners) listener(error)
  }

  private invalid(why: string, code: string): void {
    this.invalidFrames++
    const error = new RealtimeProtocolError(code, `vue-realtime: dropped an invalid frame from ${this.connection.url}: ${why}`)
    for (const listener of this.errorListeners) listener(error)
  }
}
