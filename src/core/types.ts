/**
 * Public types of the framework-free core. Nothing here imports Vue or touches DOM globals:
 * the environment (WebSocket constructor, timers, clock, browser events) is injected.
 */
import type { Connection } from './connection'

/** `WebSocket.readyState` values: CONNECTING, OPEN, CLOSING, CLOSED. */
export type ReadyState = 0 | 1 | 2 | 3

export const CONNECTING = 0 as const
export const OPEN = 1 as const
export const CLOSING = 2 as const
export const CLOSED = 3 as const

/**
 * Where a connection is in its life.
 * - `idle`: never opened (or waiting for its first `open()`).
 * - `connecting`: a socket is in CONNECTING.
 * - `open`: the socket is OPEN.
 * - `closing`: the user asked to close and the closing handshake is under way.
 * - `reconnecting`: the socket was lost; a retry is scheduled (`nextRetryAt`).
 * - `offline`: the environment reports no network; retries wait for `online`.
 * - `closed`: closed by the user (`close()`); never reconnects by itself.
 * - `failed`: retries exhausted, or a fatal close code; never reconnects by itself.
 */
export type ConnectionStatus =
  | 'idle'
  | 'connecting'
  | 'open'
  | 'closing'
  | 'reconnecting'
  | 'offline'
  | 'closed'
  | 'failed'

/** Anything `WebSocket.send` accepts. */
export type WebSocketData = string | ArrayBufferLike | ArrayBufferView | Blob

/**
 * An event handler property. Written as a method's type so that its parameter is compared
 * bivariantly: `ws`'s `(event: WebSocket.Event) => void` and the DOM's `(ev: Event) => any` both
 * fit under `strictFunctionTypes` (TypeScript 6 turns `strict` on by default).
 */
type EventHandler<E> = { handle(event: E): void }['handle']

/** The subset of the WHATWG `WebSocket` (and of `ws`) the core uses. */
export interface WebSocketLike {
  readonly readyState: number
  readonly bufferedAmount: number
  readonly protocol: string
  binaryType: string
  send(data: WebSocketData): void
  close(code?: number, reason?: string): void
  /** `ws` only: destroy the TCP socket at once, without a closing handshake. */
  terminate?(): void
  /** `ws` only (Node's EventEmitter): its 'message' event, `(data, isBinary)`, read without a `MessageEvent` per frame. */
  on?(event: 'message', listener: (data: { toString(): string }, isBinary: boolean) => void): unknown
  /** `ws` only (Node's EventEmitter): detaches the 'message' listener when the socket is discarded. */
  removeAllListeners?(event: 'message'): unknown
  onopen: EventHandler<unknown> | null
  onmessage: EventHandler<{ data: unknown }> | null
  onclose: EventHandler<{ code: number; reason: string; wasClean: boolean }> | null
  onerror: EventHandler<unknown> | null
}

/** A WebSocket constructor: the browser's, `ws`'s, or a test double. */
export interface WebSocketConstructor {
  new (url: string, protocols?: string | string[]): WebSocketLike
}

/** Opaque timer handle returned by the injected `setTimeout`. */
export type TimerHandle = unknown

/**
 * The environment the core runs in. Every member is optional when passed in; missing ones
 * fall back to the globals (`globalThis.WebSocket`, `setTimeout`, `Date.now`, `Math.random`,
 * `window`/`document` events when they exist).
 */
export interface RealtimeEnvironment {
  /** WebSocket constructor. @default globalThis.WebSocket */
  WebSocket?: WebSocketConstructor
  setTimeout: (fn: () => void, ms: number) => TimerHandle
  clearTimeout: (handle: TimerHandle) => void
  /**
   * Wall clock in epoch milliseconds (`nextRetryAt` is on it). Durations (heartbeat deadlines,
   * ttls, `maxElapsed`, a leader tab's silence) are measured on a steady version of it that moves
   * by `performance.now()` across a step back of the system clock, so such a step never stalls
   * them; a jump forward (a laptop waking up) counts.
   * @default Date.now
   */
  now: () => number
  /** Uniform random number in [0, 1), used for jitter. */
  random: () => number
  /** Is the network up? @default navigator.onLine, or true */
  isOnline: () => boolean
  /** Is the page visible? @default document.visibilityState !== 'hidden', or true */
  isVisible: () => boolean
  /**
   * Subscribe to environment events; returns the remover. Events:
   * `online`, `offline`, `visible`, `hidden`, `pagehide` (persisted: page goes into the
   * bfcache), `pageshow` (persisted: page restored from the bfcache), `freeze` and `resume`
   * (Page Lifecycle: the browser froze a background page, or thawed it).
   */
  subscribe: (listener: (event: EnvironmentEvent) => void) => () => void
  /**
   * Web Locks, which elect the tab that holds a socket shared across tabs (`shareAcrossTabs`).
   * @default navigator.locks (secure contexts only)
   */
  locks?: LockManagerLike
  /** Carries frames between the tabs that share a socket. @default globalThis.BroadcastChannel */
  BroadcastChannel?: BroadcastChannelConstructor
  /**
   * Whether the browser has SharedWorker, for `shareAcrossTabs: { via: 'worker' }` (which creates
   * the worker with the app's own `worker` factory). @default globalThis.SharedWorker
   */
  SharedWorker?: unknown
}

export type EnvironmentEvent =
  | { type: 'online' }
  | { type: 'offline' }
  | { type: 'visible' }
  | { type: 'hidden' }
  | { type: 'pagehide'; persisted: boolean }
  | { type: 'pageshow'; persisted: boolean }
  | { type: 'freeze' }
  | { type: 'resume' }

/** Options of one Web Locks request (the subset the core uses). */
export interface LockRequestOptions {
  /** Take the lock from its holder at once (its request rejects with an `AbortError`). */
  steal?: boolean
  /** Abort a request that is still waiting. */
  signal?: AbortSignal
}

/** The subset of `navigator.locks` (the Web Locks API's `LockManager`) the core uses. */
export interface LockManagerLike {
  /**
   * Waits for the exclusive lock `name`, calls `callback` while holding it and keeps it until the
   * promise `callback` returns settles. The returned promise rejects with an `AbortError` when the
   * request is aborted or the held lock is stolen.
   */
  request(name: string, options: LockRequestOptions, callback: (lock: unknown) => unknown): Promise<unknown>
  /**
   * The locks held and waited for (`navigator.locks.query()`). Optional: with it, a tab that
   * takes the lead from a stopped leader numbers its term above the one it ended, whatever the
   * clock did meanwhile.
   */
  query?(): Promise<{ held?: ReadonlyArray<{ name?: string }> }>
}

/** The subset of `BroadcastChannel` the core uses. */
export interface BroadcastChannelLike {
  postMessage(message: unknown): void
  close(): void
  onmessage: ((event: { data: unknown }) => void) | null
}

export interface BroadcastChannelConstructor {
  new (name: string): BroadcastChannelLike
}

/** What the core knows of a close code. */
export interface CloseCodeInfo {
  code: number
  /** Short name, e.g. `Going Away`, `Policy Violation`, `Private (application)`. */
  name: string
  /** One sentence on what it means for the user. */
  description: string
  /** Will the connection retry after this code by default? */
  retryable: boolean
}

/** A close as the connection saw it, explained. */
export interface CloseInfo extends CloseCodeInfo {
  reason: string
  wasClean: boolean
}

/**
 * Heartbeat (application-level ping/pong). Any inbound frame proves the link alive; a pong
 * also gives `latency`. Detection waits one macrotask before its verdict (a pong may already
 * be in the socket) and moves the deadline while `bufferedAmount` shrinks (the ping may wait
 * behind a large upload). A server that never answers pings gets a development warning after
 * two timeouts in a row: set `heartbeat: false`, or tell its reply apart with `isPong`.
 */
export interface HeartbeatOptions {
  /** Frame sent as a ping, written as is (text or binary); a function is called for each ping (if it throws, the error is reported and that ping skipped). @default 'ping' */
  message?: WebSocketData | (() => WebSocketData)
  /** Time between pings while open, ms; pings keep this rhythm whatever `timeout` is. @default 25_000 */
  interval?: number
  /** How long to wait for any inbound frame after the oldest unanswered ping before the link is declared dead, ms; may exceed `interval`. @default 10_000 */
  timeout?: number
  /**
   * Recognises a pong; pongs are swallowed (never reach consumers) and give `latency`. An echo
   * of our own ping (an echo server's answer) is a pong too. If it throws, the error is
   * reported through `error` and the frame is delivered as a message.
   * @default text `pong`, or JSON `{"type":"pong"}`
   */
  isPong?: (data: unknown) => boolean
}

/** Context handed to `shouldReconnect`. */
export interface ReconnectContext {
  /** The close that ended the last socket (synthetic for timeouts and errors). */
  close: CloseInfo
  /** 1-based number of the retry that is about to be scheduled. */
  attempt: number
  /** ms since the link was lost. */
  elapsed: number
}

/** Reconnect with exponential backoff, each client at its own random phase (see `backoffDelay`). */
export interface ReconnectOptions {
  /** Maximum number of retries in a row before `failed`. @default Infinity */
  retries?: number
  /**
   * Base delay, ms: the length of the first backoff slot and of the second. Each client draws one
   * random phase per outage and makes retry n at that phase of slot n, so the first retry lands
   * anywhere in the first `minDelay` and a herd of clients dropped together stays evenly spread
   * (see `backoffDelay`); slot n ≥ 3 lasts minDelay·factor^(n-2).
   * @default 980
   */
  minDelay?: number
  /** Upper bound of a slot, ms (clamped before jitter; clients at the cap stay spread by their phases). @default 30_000 */
  maxDelay?: number
  /** Growth factor of the slot per retry. @default 1.5 */
  factor?: number
  /**
   * Extra relative noise on each retry's delay after the first: delay × (1 ± jitter). The phase
   * already spreads a herd; fresh noise per retry lets it bunch again (a higher peak).
   * @default 0
   */
  jitter?: number
  /** The retry count resets only after the socket stayed open this long, ms. @default 5_000 */
  minUptime?: number
  /** Give up (status `failed`) once the link has been down this long, ms. @default Infinity */
  maxElapsed?: number
  /**
   * Follow the retry hint a vue-realtime server puts in the reason of a planned close
   * (`server.close()`, code 1012): come back at the moment it gave this client, then after
   * slots that start at its `window` and grow by `factor`, instead of the random phase of the
   * `minDelay` slots. The server spreads its clients evenly over a window sized by how many it
   * has (`CloseOptions.retryRate`), so a herd returns at a steady rate and a lone client within
   * a few hundred ms. The hint holds until the socket is open again; a close without one uses
   * the schedule above. See docs/protocol.md, "Retry hints".
   * @default true
   */
  serverHint?: boolean
  /**
   * Decide whether to retry. Return `false` to end in `failed`, `true` to retry even after a
   * code the table calls fatal, or `undefined` to keep the default decision.
   */
  shouldReconnect?: (info: CloseInfo, attempt: number) => boolean | undefined
}

/** What happens when the outbox is full. */
export type OverflowStrategy = 'drop-oldest' | 'drop-newest' | 'error'

/** The outbox: messages sent while not open. */
export interface QueueOptions {
  /** Maximum number of queued messages. @default 1000 */
  max?: number
  /** Maximum total size of queued messages, bytes. @default 1_048_576 */
  maxBytes?: number
  /** What to do when full (never silent: `dropped` counts and an `error` event fires). @default 'drop-oldest' */
  overflow?: OverflowStrategy
  /** Default time-to-live of a queued message, ms; an expired message is dropped, never sent late. @default undefined (no expiry) */
  ttl?: number
  /** Queue instead of sending while `bufferedAmount` exceeds this many bytes. @default 1_048_576 */
  highWaterMark?: number
}

/** Encodes outbound values and decodes inbound frames. */
export interface Serializer<In = unknown, Out = unknown> {
  encode: (value: Out) => WebSocketData
  decode: (data: unknown) => In
}

/**
 * Which tab holds a connection's socket: `leader` (this tab holds it for every tab), `follower`
 * (another tab, or a shared worker, holds it and relays it here), `solo` (this tab holds its
 * own socket: `shareAcrossTabs` is off, or the browser cannot share).
 */
export type TabRole = 'leader' | 'follower' | 'solo'

/** A message listener, checked bivariantly so that `MessagePort`'s own (`MessageEvent`) fits. */
type MessageListener = { bivarianceHack(event: { data: unknown }): void }['bivarianceHack']

/** The subset of `MessagePort` the tabs use. */
export interface MessagePortLike {
  postMessage(message: unknown): void
  onmessage: MessageListener | null
  close(): void
}

/** The subset of `SharedWorker` the tabs use. */
export interface SharedWorkerLike {
  readonly port: MessagePortLike
}

/** How tabs share a socket: `shareAcrossTabs: { via, worker, name }` (or `tabSharing({ ... })`). */
export interface TabSharingOptions {
  /**
   * How tabs share:
   * - `'locks'`: the tabs elect a leader with Web Locks and talk over a BroadcastChannel; the
   *   leader holds the socket (Safari 15.4+, Firefox 96+, Chrome 69+, Chrome for Android);
   * - `'worker'`: a SharedWorker you provide holds the socket (see `worker`);
   * - `'auto'`: `'locks'` where the browser has Web Locks and BroadcastChannel, else `'worker'`
   *   if a `worker` is given.
   * Without what the chosen way needs (or outside a secure context, where browsers hide Web
   * Locks), each tab keeps its own socket, exactly as without sharing.
   * @default 'auto'
   */
  via?: 'auto' | 'locks' | 'worker'
  /**
   * Creates the SharedWorker that holds the sockets, for `via: 'worker'`; its script calls
   * `serveTabs()` from `vue-realtime/core`. Called when a connection of a tab joins (again after
   * a pagehide or freeze), and again when the browser ended the worker while the tab lived (the
   * tab noticed it went silent): it must make a SharedWorker of the same script and name each
   * time, e.g.
   * `() => new SharedWorker(new URL('./realtime-worker.ts', import.meta.url), { type: 'module' })`.
   * If it throws, the tab reports an `error`, stays connecting and calls it again a few seconds later.
   * @default undefined
   */
  worker?: () => SharedWorkerLike
  /**
   * Tabs share a socket only with tabs that use the same `name` (and the same URL and
   * subprotocols): give apps of one origin that must not share (or builds that must not mix)
   * different names.
   * @default undefined
   */
  name?: string
}

/**
 * Tab sharing with its code already loaded: what `tabSharing()` (`vue-realtime`) returns, for
 * the `shareAcrossTabs` option. Its members are internal.
 */
export interface TabSharing {
  /**
   * @internal Creates the connection for `url`: shared when the browser can share, else a plain
   * one. The manager disposes it when the tab no longer uses it: a shared one then hands its
   * socket over (or leaves the group) instead of closing it for every tab.
   */
  connect<In, Out>(url: string | URL, options: ConnectionOptions<In, Out>): Connection<In, Out>
}

/** Options of one connection (shared by every consumer of it). */
export interface ConnectionOptions<In = unknown, Out = unknown> {
  /** WebSocket subprotocols. Part of the connection's key. */
  protocols?: string | string[]
  /**
   * An auth token, sent on every connection attempt as one more subprotocol,
   * `tokenProtocol + token`, after `protocols` (which it never replaces). A getter is read again
   * before each attempt, so it can hand out a refreshed token. Not part of the connection's key,
   * and never shown in the store, devtools or error messages. Empty or `undefined`: no token.
   * The token must be a valid subprotocol token (letters, digits and `!#$%&'*+-.^_|~`, e.g.
   * base64url). Prefer it to a `?token=` query parameter, which proxies and servers log.
   * @default undefined
   */
  token?: string | (() => string | null | undefined)
  /** Prefix of the token subprotocol (see `token`). @default 'vue-realtime.token.' */
  tokenProtocol?: string
  /** WebSocket constructor to use (e.g. `ws` in Node). @default globalThis.WebSocket */
  WebSocket?: WebSocketConstructor
  /** @default 'arraybuffer' */
  binaryType?: 'blob' | 'arraybuffer' | 'nodebuffer'
  /** A socket still CONNECTING after this long is abandoned and retried, ms. @default 10_000 */
  connectTimeout?: number
  /** `true` for defaults, `false` to disable. @default true */
  heartbeat?: boolean | HeartbeatOptions
  /** `true` for defaults, `false` to disable. @default true */
  reconnect?: boolean | ReconnectOptions
  /** Outbox bounds. */
  queue?: QueueOptions
  /** @default JSON for objects; inbound text parsed as JSON when it parses, else kept as a string */
  serializer?: Serializer<In, Out>
  /**
   * Keep the socket this long after the last consumer released it, ms (manager only). Messages
   * still queued when it closes are counted in `dropped` and reported. A closed or failed
   * connection is forgotten at once.
   * @default 1_000
   */
  idleTimeout?: number
  /** Close with 1001 on `pagehide` and reopen on a persisted `pageshow` (bfcache). @default true */
  closeOnPageHide?: boolean
  /**
   * One socket per URL for all the tabs of this origin and browser profile, instead of one per
   * tab: `true`, or `{ via, worker, name }` (see `TabSharingOptions`). The tab-sharing code is
   * then loaded on first use with a dynamic `import()` (bundlers put it in a chunk of its own),
   * so an app that does not share carries none of it; while it loads, the connection keeps what
   * it is asked in order and opens no socket. `tabSharing({ ... })` (from `vue-realtime`) is
   * the same with the code bundled up front. Where the browser cannot share (no Web Locks or
   * BroadcastChannel, not a secure context, or Node), each tab keeps its own socket. See the
   * `tabs` guide.
   * @default false (one socket per tab)
   */
  shareAcrossTabs?: boolean | TabSharingOptions | TabSharing
  /** Injected environment (timers, clock, browser events); tests pass fakes here. */
  environment?: Partial<RealtimeEnvironment>
}

/** Options of one `send`. */
export interface SendOptions {
  /**
   * Drop instead of queueing when the message cannot be written now: the socket is not open,
   * the link is suspect (a heartbeat probe is under way) or congested. Counted in `dropped`.
   * For presence pings and cursors. @default false
   */
  volatile?: boolean
  /** Time-to-live while queued, ms (overrides `queue.ttl`). */
  ttl?: number
}

/** What `send` did with the message. */
export type SendResult = 'sent' | 'queued' | 'dropped'

/** Why a message was dropped. */
export type DropReason = 'overflow' | 'ttl' | 'volatile' | 'closed'

/** Errors reported through the `error` event. */
export interface RealtimeErrorInfo {
  kind:
    | 'socket'
    | 'connect-timeout'
    | 'heartbeat-timeout'
    | 'decode'
    | 'dropped'
    | 'callback'
    | 'invalid-url'
    | 'serialize'
    | 'auth'
  message: string
  /**
   * The underlying error. Credentials stay out of it: a socket error event is reduced to its
   * `error` (the event's target holds the URL), and an Error naming a credential is replaced by
   * a masked copy.
   */
  cause?: unknown
}

/** A snapshot of a connection's state (what the Vue and Pinia layers mirror). */
export interface ConnectionState {
  status: ConnectionStatus
  readyState: ReadyState
  /** Retries made since the link was last stable. */
  attempt: number
  /** When the next retry fires (epoch ms), or null. */
  nextRetryAt: number | null
  /**
   * The close that ended the last open link (a planned 1012 stays while the refused retries go
   * on), or the user's close. Attempts that never opened are reported through `error`.
   */
  lastClose: CloseInfo | null
  /** Last heartbeat round trip, ms, or null. */
  latency: number | null
  /** Messages waiting in the outbox. */
  queued: number
  /** Messages dropped: queue overflow, ttl, volatile messages not written, queued messages of a disposed connection. */
  dropped: number
  /**
   * Inbound messages delivered (pongs excluded). A change to the counters alone is published
   * (`state` event) at most every ~16 ms; reading `Connection.state` is always current.
   */
  received: number
  /** Outbound frames written to a socket (heartbeats excluded). Published like `received`. */
  sent: number
  error: RealtimeErrorInfo | null
  /** Which tab holds the socket (see `TabRole`); `solo` unless `shareAcrossTabs` is on. */
  role: TabRole
  /**
   * Sends of this tab that the tab holding the shared socket accepted, then went away before
   * writing them: they may or may not have reached the server (reported through `error` too).
   * Always 0 for a `solo` connection.
   */
  uncertain: number
}

/** Events of a `Connection`. Each listener gets one argument. */
export interface ConnectionEvents<In = unknown> {
  /** Any change to `ConnectionState` (status, counters, latency...). */
  state: ConnectionState
  open: { protocol: string }
  /** One decoded inbound message (heartbeat replies never arrive here). */
  message: In
  close: CloseInfo
  error: RealtimeErrorInfo
  /** A frame written to the socket (devtools). */
  frameOut: { data: WebSocketData }
  /** A raw frame received (devtools), before decoding, pongs included. */
  frameIn: { data: unknown }
}
