import type { IncomingMessage, Server as HttpServer } from 'node:http'
import type { Duplex } from 'node:stream'
import type { FrameId, PresenceMember, ServerFrame } from '../core/protocol'
import type { RealtimeEngine } from './engine'
import type { RateLimit } from './limits'

/** The third argument of `authenticate`. */
export interface AuthenticateContext {
  /** Aborts when `authenticateTimeout` passes, the socket closes or the server closes. */
  readonly signal: AbortSignal
}

/** What a client may be authorized to do on a topic. */
export type TopicAction = 'subscribe' | 'publish'

/** A connected client as the server's hooks and API see it. */
export interface RealtimeClient<User = unknown> {
  /** Server-made id, unique per connection (sent in `welcome`, used as `from`). */
  readonly id: string
  /** What `authenticate` returned; undefined without an `authenticate` hook. */
  readonly user: User | undefined
  /** Topics subscribed (or being subscribed). */
  readonly topics: ReadonlySet<string>
  /** Epoch ms of the last inbound frame. */
  readonly lastSeen: number
  /** False while silent for longer than 1.5 heartbeat intervals. */
  readonly online: boolean
  /** Sends a frame to this client only (dropped if the socket is not open). */
  send(frame: ServerFrame): void
  /** Closes this client's socket. */
  close(code?: number, reason?: string): void
}

/** New topics one connection may create (in the engine) per window. */
export interface NewTopicLimit {
  /** Topics created per window. */
  topics: number
  /** Window length, ms. */
  perMs: number
}

/** Handles one `request` method. Throw a `RequestError` to answer with a code. */
export type RequestHandler<User = unknown> = (
  data: unknown,
  client: RealtimeClient<User>,
  method: string,
) => unknown

/**
 * Options of the protocol itself, whatever carries its sockets: limits, hooks, engine. `Req` is
 * the upgrade request as the transport gives it (Node's `IncomingMessage` for
 * `createRealtimeServer`, the Web `Request` for the crossws hooks).
 */
export interface RealtimeProtocolOptions<User = unknown, Req = IncomingMessage> {
  /**
   * Clients must send a frame (a `ping` will do) at least this often, ms. A client silent for
   * 1.5 intervals is shown `offline` in presence; after 2 intervals it is terminated.
   * @default 25_000
   */
  heartbeatInterval?: number
  /** Largest inbound frame, bytes; a larger one closes the connection with 1009. @default 65_536 */
  maxPayload?: number
  /** Frames per connection; exceeding closes with 1008 and a reason naming the limit. @default { messages: 100, perMs: 1000 } */
  rateLimit?: RateLimit | false
  /** Subscriptions one connection may hold; more get an `error` frame `too_many_topics`. @default 100 */
  maxTopicsPerConnection?: number
  /**
   * New topics one connection may create per window (a subscribe or publish to a topic the
   * engine did not hold), on top of `rateLimit`. Past it, the connection gets an `error` frame
   * `too_many_new_topics` for topics that do not exist yet; existing ones still work. `false`
   * turns it off.
   * @default { topics: 200, perMs: 60_000 }
   */
  newTopicLimit?: NewTopicLimit | false
  /** Messages kept per topic by the default engine. Ignored when you pass `engine`. @default 1000 */
  historyLimit?: number
  /** Most messages replayed on one `subscribe`; a larger gap replays the newest ones with `recovered: false`. @default 1000 */
  replayLimit?: number
  /**
   * Most bytes replayed on one `subscribe` (encoded frames); a larger replay sends the newest
   * that fit, with `recovered: false`. Must be below `maxBufferedAmount`, so a replay is never
   * mistaken for a slow consumer.
   * @default half of `maxBufferedAmount` (4 MiB)
   */
  replayMaxBytes?: number
  /** Publish ids remembered per topic for dedupe by the default engine. Ignored when you pass `engine`. @default 1000 */
  dedupeWindow?: number
  /** Deepest nesting of arrays and objects in a frame's `data`; deeper frames get `invalid_frame`. @default 64 */
  maxDepth?: number
  /** Close a client with 1008 when this many bytes are waiting to be sent to it (slow consumer). @default 8_388_608 */
  maxBufferedAmount?: number
  /**
   * Which web pages may connect, by the upgrade's `Origin` header: the defence against
   * cross-site WebSocket hijacking (a page on another site connecting with the visitor's
   * cookies). Checked when `authenticate` is set or this option is given. Always allowed: the
   * request's own host (same origin as `Host`, any scheme) and requests without `Origin`
   * (not a browser). Beyond those:
   * - a list adds origins, `scheme://host[:port]` (`['https://app.example.com']`; `[]`: same
   *   origin only, e.g. to protect a server without `authenticate` on localhost or an intranet);
   * - a function decides for every other origin (patterns, `X-Forwarded-Host`);
   * - `'*'` allows every origin: only for servers whose clients never carry cookies or other
   *   ambient credentials (see docs/guide/security.md).
   * Refused upgrades are closed with 4403 and a reason that does not list the allowed origins.
   * @default same origin only when `authenticate` is set; any origin without it
   */
  origins?: '*' | readonly string[] | ((origin: string, req: Req) => boolean)
  /**
   * Authenticates the upgrade request. `token` is the `?token=` query parameter or the
   * subprotocol entry after `vue-realtime.token.` (prefer the subprotocol: proxies log query
   * strings). Return the user (sent in `welcome` and in presence, so JSON only, nothing secret
   * and never the token), or `null`/`undefined`/`false` to close with 4401. `signal` aborts
   * when `authenticateTimeout` passes or the client goes away: pass it to your fetch or query.
   * @default undefined (everyone is let in, without a user)
   */
  authenticate?: (
    req: Req,
    token: string | undefined,
    context: AuthenticateContext,
  ) => User | null | undefined | false | Promise<User | null | undefined | false>
  /**
   * `authenticate` must settle within this, ms; a slower one closes the client with 4401
   * (`unauthorized: authentication timed out`), reports an `error` and aborts its `signal`.
   * @default 5_000
   */
  authenticateTimeout?: number
  /** May this client subscribe to / publish on this topic? Refusal: `error` frame `forbidden`. @default everything allowed */
  authorize?: (user: User | undefined, topic: string, action: TopicAction, client: RealtimeClient<User>) => boolean | Promise<boolean>
  /**
   * Answers `request` frames: a function for every method (throw `RequestError('not_found', …)`
   * for unknown ones), or one handler per method name (unknown names answer `not_found`).
   * @default undefined (every request answers `not_found`)
   */
  onRequest?: ((method: string, data: unknown, client: RealtimeClient<User>) => unknown) | Record<string, RequestHandler<User>>
  /** Include presence (members, join/leave/online/offline). @default true */
  presence?: boolean
  /**
   * What owns sequences, epochs, dedupe, history, fan-out between server processes and
   * presence (see `RealtimeEngine`). An engine you pass is yours to close after `server.close()`.
   * @default `memoryEngine({ historyLimit, dedupeWindow })`, or `sqliteEngine(...)` with `dataDir`
   */
  engine?: RealtimeEngine
  /**
   * Keep history in this folder across restarts: short for
   * `engine: sqliteEngine({ path: dataDir + '/realtime.db', historyLimit, dedupeWindow })`
   * (needs the optional peer `better-sqlite3`). One server process per folder; a second one is
   * refused at start. Ignored when you pass `engine`.
   * @default undefined (memory only)
   */
  dataDir?: string
  /** Clock, epoch ms (tests). @default Date.now */
  now?: () => number
}

/** Options of `createRealtimeServer`: the protocol's, plus where its `ws` server takes upgrades. */
export interface RealtimeServerOptions<User = unknown> extends RealtimeProtocolOptions<User, IncomingMessage> {
  /** Port to listen on (own HTTP server); 0 picks a free one, read it from `server.port`. @default 0 */
  port?: number
  /** Interface to listen on (own HTTP server). @default '127.0.0.1' */
  host?: string
  /** Attach to this existing HTTP server instead of creating one (its `upgrade` events on `path`). */
  server?: HttpServer
  /** Neither listen nor attach: call `server.handleUpgrade(req, socket, head)` yourself. @default false */
  noServer?: boolean
  /** Only upgrades to this pathname are accepted. @default undefined (any path) */
  path?: string
  /**
   * An upgrade must complete within this, ms, or its socket is closed (HTTP 408). On the own
   * HTTP server the clock starts at the TCP connection (so half-sent requests are covered); on
   * an attached server or with `noServer`, at the `upgrade` event: set your server's
   * `headersTimeout` for the part before it.
   * @default 10_000
   */
  handshakeTimeout?: number
  /**
   * Upgrades in progress at once (own HTTP server: TCP connections not yet upgraded). Beyond
   * it new connections are refused at once with HTTP 503, and an `error` is reported (once per
   * `handshakeTimeout`). It bounds memory; per-address limits belong in your proxy.
   * @default 1_000
   */
  maxPendingUpgrades?: number
}

/** An upgrade request as crossws hands it to its `upgrade` hook (crossws 0.3 and 0.4 alike). */
export interface UpgradeRequest {
  /** The full URL, e.g. `http://example.com/_realtime?room=1`. */
  readonly url: string
  readonly headers: Headers
}

/** Options of `createRealtimeHooks`: the protocol's, for a crossws route (Nitro, h3). */
export interface RealtimeHooksOptions<User = unknown> extends RealtimeProtocolOptions<User, UpgradeRequest> {
  /**
   * Whether the `upgrade` hook names the selected subprotocol (`vue-realtime.v1`) in its
   * response headers. crossws 0.4 needs it: its adapters select none themselves. crossws 0.3's
   * Node adapter (Nitro 2: Nuxt 3 and 4) answers with the client's FIRST offered subprotocol
   * itself, so naming it as well would send the header twice, which browsers reject; set
   * `false` there. Either way a client that offers subprotocols must offer `vue-realtime.v1`
   * first (vue-realtime's clients do), or it is refused with HTTP 400.
   * @default true
   */
  protocolHeader?: boolean
}

export interface CloseOptions {
  /** Close code sent to every client. @default 1012 */
  code?: number
  /** @default 'server shutting down' */
  reason?: string
  /** Clients that have not finished the closing handshake after this long are terminated, ms. @default 2000 */
  timeout?: number
  /**
   * How many clients per second to ask back. Each client's close reason ends with a retry hint
   * (`retry=<delay>/<window>`) that gives it its own moment in a window of
   * max(250 ms, clients ÷ retryRate): the clients of a node come back at this even rate instead
   * of the random peaks of independent backoff, and a lone client within a few hundred ms.
   * vue-realtime clients follow it (`reconnect.serverHint`); others see a longer reason. Sent
   * only with codes the client retries after (not 1008, 4400–4499, …). `0` sends no hint. Set
   * it to what this node can accept (handshakes, `authenticate`, replays) while other work goes on.
   * @default 300
   */
  retryRate?: number
  /**
   * When the first client should come back, ms after the close (e.g. the time this node takes
   * to restart; clients that come earlier are refused and retry at their next moment).
   * @default 0
   */
  retryAfter?: number
}

/** A message as the server published it (ephemeral ones have no `seq` and no `epoch`). */
export interface PublishedMessage {
  topic: string
  /** The publish id (dedupe key within the topic). */
  id: FrameId
  data: unknown
  /** The publisher's `clientId`, or `'server'`. */
  from: string
  /** The publisher's user, when authenticated. */
  user?: unknown
  /** Server time of publication, epoch ms. */
  ts: number
  /** Per-topic sequence (stored messages). */
  seq?: number
  /** The topic's epoch of `seq` (stored messages). */
  epoch?: string
  ephemeral?: true
}

/** What `server.publish` resolves with. */
export interface ServerPublishResult extends PublishedMessage {
  /** True when the id was already published on the topic: the fields are the ORIGINAL message's, nothing was sent again. */
  duplicate: boolean
}

export interface RealtimeServerEvents<User = unknown> {
  connection: RealtimeClient<User>
  disconnect: { client: RealtimeClient<User>; code: number; reason: string }
  publish: PublishedMessage
  /** Engine failures, throwing hooks, socket errors. Without a listener they go to `console.error`. */
  error: Error
}

export interface PublishOptions {
  /** Broadcast only; not stored. @default false */
  ephemeral?: boolean
  /** Message id (dedupe key within the topic). @default a random UUID */
  id?: FrameId
}

/** What every transport of the protocol server offers: its clients, engine, publish and shutdown. */
export interface RealtimeServerCore<User = unknown> {
  /** Resolves once the engine is ready (and, for `createRealtimeServer` with its own HTTP server, the port is bound). */
  readonly ready: Promise<void>
  /** Connected clients by id. */
  readonly clients: ReadonlyMap<string, RealtimeClient<User>>
  /** The engine in use (the default one, or the one passed as `engine`). */
  readonly engine: RealtimeEngine
  /** Topics with at least one subscriber on this server. */
  topics(): string[]
  /** Current members of a topic, across every server on the engine. */
  presence(topic: string): Promise<PresenceMember<User>[]>
  /**
   * Publishes from the server (`from: 'server'`); resolves with the stored message, or with the
   * original one and `duplicate: true` when `options.id` was already published on the topic.
   */
  publish(topic: string, data: unknown, options?: PublishOptions): Promise<ServerPublishResult>
  on<K extends keyof RealtimeServerEvents<User>>(event: K, listener: (payload: RealtimeServerEvents<User>[K]) => void): () => void
  /** Graceful shutdown: refuse new connections, close every client (1012), then close the engine if the server made it. */
  close(options?: CloseOptions): Promise<void>
}

/** The protocol server on `ws`: `createRealtimeServer`. */
export interface RealtimeServer<User = unknown> extends RealtimeServerCore<User> {
  /** Same as `ready`. */
  listen(): Promise<void>
  /** Bound port (0 before `ready`, or with `noServer`). */
  readonly port: number
  /** `ws://host:port/path` of the own or attached server. */
  readonly url: string
  /** For `noServer`: hand over an upgrade request. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void
}
