import type { Connection } from './connection'
import { resolveEnvironment } from './environment'
import { errorMessage } from './errors'
import { keyOf, PendingAnswers } from './pendingAnswers'
import { PROTOCOL, parseServerFrame, isValidTopic, type AckFrame, type ErrorFrame, type PresenceMember, type WelcomeFrame } from './protocol'
import { isRetryLater, RealtimeProtocolError } from './protocolError'
import { TopicSubscription, type TopicLink, type TopicListener } from './topicSubscription'
import type { ConnectionOptions, Serializer } from './types'

export { DEFAULT_ANSWER_TIMEOUT } from './pendingAnswers'
export { RealtimeProtocolError } from './protocolError'
export type { GapInfo, TopicListener } from './topicSubscription'

export interface SubscribeOptions {
  /** When this subscriber joins, replay the last `history` messages to it. @default 0 */
  history?: number
}

export interface PublishOptions {
  /**
   * Client message id; resending the same id never duplicates. Publishing again with an id
   * that still waits for its ack joins that publish: both calls settle with its ack.
   * @default a random id
   */
  id?: string
  /**
   * Broadcast only: not stored, not replayed, no sequence number. At most once: never resent
   * once written, so a lost link rejects it with `connection_lost`. @default false
   */
  ephemeral?: boolean
  /**
   * Reject if no ack arrives within this long, ms. A stored publish the server refuses for now
   * ("retry later": `internal`, `server_full`, `too_many_new_topics`) is written again after a
   * backoff (1 s, doubling to 5 s) until then, and rejects with that refusal's code. @default 10_000
   */
  timeout?: number
}

export interface RequestOptions {
  /** Reject if no response arrives within this long, ms. @default 10_000 */
  timeout?: number
}

/** A read-only view of one topic of a `ProtocolClient` (what the devtools inspector shows). */
export interface ChannelSnapshot {
  topic: string
  /** Consumers of the topic on this connection (`useChannel` calls). */
  listeners: number
  /** The server confirmed the subscription on the current socket. */
  subscribed: boolean
  /** Last sequence number delivered (0 = none yet). */
  seq: number
  /** The epoch `seq` belongs to; undefined until known, and from servers without epochs. */
  epoch: string | undefined
  /** Members of the topic, as the server last reported them. */
  presence: readonly PresenceMember[]
  /** Publishes to the topic waiting for the server's ack. */
  pending: number
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
 * subscriptions that rejoin from their last (epoch, sequence) after a reconnect, each message
 * shown once and in order; acknowledged publishes that are resent with the same id until
 * acked; requests with timeouts. Everything pending rejects when the connection is closed by
 * the user or fails for good: nothing hangs.
 */
export class ProtocolClient {
  /** The one protocol client of `connection` (created on first use). */
  /** The protocol client of `connection` if one exists; never creates one (devtools read through it). */
  static peek(connection: Connection): ProtocolClient | undefined {
    return clients.get(connection)
  }

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

  private readonly topics = new Map<string, TopicSubscription>()
  /**
   * Answers still due on this socket to subscribes of a topic's subscriptions that were let go.
   * The server answers each topic's subscribes once each, in order, so these come first and are
   * skipped: a new subscription of the topic never takes an earlier one's answer (its head, its
   * members, its refusal) for its own.
   */
  private readonly stale = new Map<string, number>()
  private readonly pending: PendingAnswers
  private readonly errorListeners = new Set<(error: RealtimeProtocolError) => void>()
  private readonly welcomeListeners = new Set<(frame: WelcomeFrame) => void>()
  private readonly stops: (() => void)[]
  /** Is the socket the last `open` announced still in hand? (It ends with a `close`, or a status past `open`.) */
  private socketLive = false
  private readonly link: TopicLink
  constructor(readonly connection: Connection) {
    const env = resolveEnvironment(connection.options.environment)
    this.link = {
      open: () => this.connection.status === 'open',
      send: (frame) => this.write(frame),
      report: (error) => this.emitError(new RealtimeProtocolError('callback', `vue-realtime: a topic listener threw: ${errorMessage(error)}`, { cause: error })),
      later: (fn, ms) => {
        const timer = env.setTimeout(fn, ms)
        return () => env.clearTimeout(timer)
      },
      random: () => env.random(),
    }
    this.pending = new PendingAnswers(connection, env)
    // Made for a connection already open: its socket is in hand without an `open` event.
    this.socketLive = connection.status === 'open'
    this.stops = [
      connection.on('open', () => this.onOpen()),
      connection.on('message', (data) => this.onFrame(data)),
      connection.on('close', () => this.onSocketLost()),
      connection.on('state', (state) => {
        if (state.status === 'closed') this.pending.rejectAll('closed', 'the connection was closed')
        else if (state.status === 'failed') this.pending.rejectAll('failed', `the connection failed (${state.lastClose?.name ?? 'retries exhausted'})`)
        // A socket replaced or dropped without a `close` event is lost all the same.
        if (this.socketLive && state.status !== 'open' && state.status !== 'closing') this.onSocketLost()
      }),
    ]
  }

  /**
   * Subscribes to `topic`; returns the remover (the last remover unsubscribes). Every
   * subscriber gets its own join: its `history`, then `subscribed`, then every later message
   * once, in sequence order, across reconnects.
   */
  subscribe(topic: string, listener: TopicListener, options: SubscribeOptions = {}): () => void {
    if (!isValidTopic(topic)) {
      throw new TypeError(
        `vue-realtime: invalid topic ${JSON.stringify(topic)}. Use 1–128 letters, digits or ": _ - . /".`,
      )
    }
    let state = this.topics.get(topic)
    if (!state) {
      state = new TopicSubscription(topic, this.link)
      this.topics.set(topic, state)
    }
    const subscription = state
    const handle = subscription.add(listener, options.history ?? 0)
    return () => {
      if (!subscription.remove(handle) || subscription.size > 0 || this.topics.get(topic) !== subscription) return
      subscription.dispose()
      this.topics.delete(topic)
      if (subscription.unanswered > 0) this.stale.set(topic, (this.stale.get(topic) ?? 0) + subscription.unanswered)
      this.write({ type: 'unsubscribe', topic })
    }
  }

  /** Last sequence number delivered for `topic` (0 = none). */
  lastSeq(topic: string): number {
    return this.topics.get(topic)?.lastSeq ?? 0
  }

  /** A snapshot of every subscribed topic, in subscription order (copies: changing them changes nothing). */
  channels(): ChannelSnapshot[] {
    const pending = this.pending.publishesByTopic()
    return [...this.topics.values()].map((subscription) => ({
      topic: subscription.topic,
      listeners: subscription.size,
      subscribed: subscription.confirmed,
      seq: subscription.lastSeq,
      epoch: subscription.epoch,
      presence: [...subscription.members],
      pending: pending.get(subscription.topic) ?? 0,
    }))
  }

  /** The epoch `lastSeq(topic)` belongs to (undefined: not known yet, or a server without epochs). */
  epoch(topic: string): string | undefined {
    return this.topics.get(topic)?.epoch
  }

  /**
   * Publishes `data` to `topic`; resolves with the server's ack. While the link is down
   * the publish waits and is (re)sent after every reconnect with the same id until acked;
   * the server drops duplicates by id, so it is shown exactly once. Ephemeral publishes are
   * sent at most once.
   */
  publish<T>(topic: string, data: T, options: PublishOptions = {}): Promise<AckFrame> {
    const id = options.id ?? randomId()
    const what = `publish to "${topic}"`
    const key = keyOf('publish', id)
    const pendingOn = this.pending.topicOf(key)
    if (this.pending.has(key) && pendingOn !== topic) {
      return Promise.reject(
        new RealtimeProtocolError(
          'duplicate_id',
          `vue-realtime: ${what} refused: the id ${JSON.stringify(id)} is already waiting for an ack on "${pendingOn}". Give every message its own id.`,
        ),
      )
    }
    const frame = { type: 'publish', topic, id, data, ...(options.ephemeral ? { ephemeral: true } : {}) }
    return this.pending.track<AckFrame>(key, frame, options.timeout, { resend: !options.ephemeral, topic }, what)
  }

  /** Sends a request to the server's `onRequest(method, data)`; resolves with its response. */
  request<R = unknown>(method: string, data?: unknown, options: RequestOptions = {}): Promise<R> {
    const id = randomId()
    return this.pending.track<R>(keyOf('request', id), { type: 'request', id, method, data }, options.timeout, { resend: false }, `request "${method}"`)
  }

  /** Errors not tied to a topic or a pending call (bad frames, server errors, throwing listeners). */
  onError(listener: (error: RealtimeProtocolError) => void): () => void {
    this.errorListeners.add(listener)
    return () => this.errorListeners.delete(listener)
  }

  onWelcome(listener: (frame: WelcomeFrame) => void): () => void {
    this.welcomeListeners.add(listener)
    return () => this.welcomeListeners.delete(listener)
  }

  /** Publishes and requests still waiting for their answer. */
  get pendingCount(): number {
    return this.pending.size
  }

  /** Detaches from the connection and rejects everything pending. */
  dispose(): void {
    for (const stop of this.stops) stop()
    this.pending.rejectAll('closed', 'the protocol client was disposed')
    for (const state of this.topics.values()) state.dispose()
    this.topics.clear()
    clients.delete(this.connection)
  }

  // ── internals ────────────────────────────────────────────────────────────────

  private write(frame: object): void {
    // A frame lost with its socket needs no resend: every open rejoins every topic.
    if (this.connection.status === 'open') this.connection.sendFrame(JSON.stringify(frame))
  }

  /** Is this answer of `topic` one due to a subscription let go? Then it is counted off and skipped. */
  private skipStale(topic: string): boolean {
    const due = this.stale.get(topic)
    if (due === undefined) return false
    if (due > 1) this.stale.set(topic, due - 1)
    else this.stale.delete(topic)
    return true
  }

  private onOpen(): void {
    this.socketLive = true
    this.stale.clear()
    // Rejoin every topic from its last (epoch, sequence), then resend what was never acked, in order.
    for (const state of this.topics.values()) state.rejoin()
    this.pending.opened()
  }

  private onSocketLost(): void {
    if (!this.socketLive) return
    this.socketLive = false
    this.stale.clear()
    for (const state of this.topics.values()) state.lost()
    this.pending.lost()
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
      case 'message':
        return this.topics.get(frame.topic)?.message(frame)
      case 'subscribed':
        if (this.skipStale(frame.topic)) return
        return this.topics.get(frame.topic)?.answered(frame)
      case 'presence':
        return this.topics.get(frame.topic)?.presence(frame)
      case 'ack': {
        const key = keyOf('publish', frame.id)
        const topic = this.pending.topicOf(key)
        this.pending.settle(key, { value: frame })
        if (topic !== undefined) this.topics.get(topic)?.acked(frame)
        return
      }
      case 'response':
        this.pending.settle(
          keyOf('request', frame.id),
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
    if (frame.ref !== undefined) {
      // A stored publish refused for now ("retry later") is written again after a backoff (the server dedupes it by id).
      if (frame.frame === 'publish' && isRetryLater(error) && this.pending.refusedForNow(keyOf('publish', frame.ref), error)) return
      const kinds = frame.frame === 'request' ? (['request'] as const) : frame.frame === 'publish' ? (['publish'] as const) : (['publish', 'request'] as const)
      for (const kind of kinds) if (this.pending.settle(keyOf(kind, frame.ref), { error })) return
    }
    // A refused subscribe of a subscription let go: its answer, nobody's concern now.
    if (frame.frame === 'subscribe' && frame.topic !== undefined && this.skipStale(frame.topic)) return
    const state = frame.topic ? this.topics.get(frame.topic) : undefined
    if (state && frame.frame === 'subscribe') return state.refused(error)
    if (state) return state.error(error)
    this.emitError(error)
  }

  private invalid(why: string, code: string): void {
    this.invalidFrames++
    this.emitError(new RealtimeProtocolError(code, `vue-realtime: dropped an invalid frame from ${this.connection.url}: ${why}`))
  }

  private emitError(error: RealtimeProtocolError): void {
    for (const listener of this.errorListeners) listener(error)
  }
}
