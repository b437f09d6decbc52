import { hintedDelay, parseRetryHint, resolveReconnect, retryDelay, type ResolvedReconnectOptions, type RetryHint } from './backoff'
import { closeCodeInfo, isSendableCloseCode } from './closeCodes'
import { Emitter } from './emitter'
import { resolveEnvironment, steadyClock } from './environment'
import { Heartbeat, resolveHeartbeat } from './heartbeat'
import { resolveQueue, type OutboxEntry } from './outbox'
import { TOKEN_PROTOCOL_PREFIX } from './protocol'
import { callbackThrew, errorInfo, errorMessage } from './errors'
import { redactSecrets } from './redact'
import { jsonSerializer } from './serializer'
import { connectionKey, normalizeUrl } from './url'
import { Writer, type DropReason, type FrameSettled, type WaitingFrame } from './writer'
import type {
  CloseInfo,
  ConnectionEvents,
  ConnectionOptions,
  ConnectionState,
  ConnectionStatus,
  EnvironmentEvent,
  ReadyState,
  RealtimeEnvironment,
  RealtimeErrorInfo,
  SendOptions,
  SendResult,
  Serializer,
  TimerHandle,
  WebSocketData,
  WebSocketLike,
} from './types'

/** Abnormal closure: what a lost link looks like (RFC 6455 §7.1.5). */
const ABNORMAL = 1006
/** A user `close()` waits this long for the closing handshake before cutting the socket. */
const CLOSE_GRACE_MS = 2_000
const DEFAULT_CONNECT_TIMEOUT = 10_000
/** What a subprotocol may hold (RFC 6455 §4.1: an HTTP token); browsers throw on anything else. */
const SUBPROTOCOL_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
/** Heartbeat timeouts in a row, on links whose server never answered a ping, before the quiet-server warning. */
const QUIET_LINKS_BEFORE_WARNING = 2

// The connection's timers, by slot. Each slot holds at most one timer; `#stop()` clears all.
const RETRY = 0
const CONNECT = 1
const UPTIME = 2
const CLOSE = 3
const COUNTERS = 4

/**
 * Counter-only changes (`received`, `sent`) publish at most one `state` event per this many ms,
 * about a frame: a browser delivers every message as a task of its own, and a snapshot per message
 * (with every ref, store and tab that mirrors it) would cost a firehose more than the message.
 * Reading `state` always gives the current counters.
 */
const COUNTERS_FOLD_MS = 16

/** The state of a connection that has not connected yet (and of a consumer without one). */
export const IDLE_STATE: Readonly<ConnectionState> = Object.freeze({
  status: 'idle',
  readyState: 3,
  attempt: 0,
  nextRetryAt: null,
  lastClose: null,
  latency: null,
  queued: 0,
  dropped: 0,
  received: 0,
  sent: 0,
  error: null,
  role: 'solo',
  uncertain: 0,
})

export type { FrameSettled }

/** A close as `lastClose`, `close` listeners and `shouldReconnect` get it. */
export function closeInfo(code: number, reason: string, wasClean = false): CloseInfo {
  return { ...closeCodeInfo(code), reason, wasClean }
}

/**
 * `ws` (Node): listen to its own 'message' event, which hands over the payload without the
 * `MessageEvent` object its `onmessage` builds for every frame (bench scenario a, paired rounds:
 * 2–11 % more messages per second). Text comes as a Buffer there, so it is decoded exactly as
 * `onmessage` would (`toString()`, UTF-8); binary already has the `binaryType`'s shape. Any
 * other WebSocket (browsers, Node 22's global, test doubles) uses `onmessage`.
 */
function listenToFrames(socket: WebSocketLike, frame: (data: unknown) => void): boolean {
  if (typeof socket.on !== 'function' || typeof socket.removeAllListeners !== 'function' || typeof socket.terminate !== 'function') return false
  socket.on('message', (data: { toString(): string }, isBinary: boolean) => frame(isBinary ? data : data.toString()))
  return true
}

/** Detaches a socket and ends it without waiting: `terminate()` where available (ws). */
function discard(socket: WebSocketLike, code: number, reason: string): void {
  socket.onopen = socket.onmessage = socket.onclose = null
  socket.removeAllListeners?.('message')
  // Keep an error listener: `ws` throws on an 'error' event nobody listens to.
  socket.onerror = () => {}
  try {
    if (socket.terminate) socket.terminate()
    else if (socket.readyState < 2) socket.close(isSendableCloseCode(code) ? code : 1000, reason.slice(0, 120))
  } catch {
    // Closing a socket that is already gone is not an error worth reporting.
  }
}

/** What `sendTagged` and `takeQueued` reach inside a connection (set by `Connection`'s static block). */
let internals: {
  send(connection: Connection, data: unknown, options: SendOptions, tag: unknown, gone?: (tags: unknown[]) => void): SendResult
  take(connection: Connection): OutboxEntry[]
}

/**
 * The tab-sharing hub's `send`: `tag` (who sent the message) stays with it while it is queued,
 * so that `takeQueued` can hand it back to its sender, and `gone` is told the tags of what left
 * the outbox to make room for it. Not part of `Connection`'s surface.
 */
export function sendTagged<In, Out>(connection: Connection<In, Out>, data: Out | WebSocketData, options: SendOptions, tag: unknown, gone?: (tags: unknown[]) => void): SendResult {
  return internals.send(connection as unknown as Connection, data, options, tag, gone)
}

/**
 * Removes the messages a connection still has queued and returns them, not counted as dropped:
 * the caller sends them elsewhere (a hub whose term ends hands them back to the tabs that sent
 * them, for the next leader). Expired ones are dropped and counted.
 */
export function takeQueued<In, Out>(connection: Connection<In, Out>): OutboxEntry[] {
  return internals.take(connection as unknown as Connection)
}

/**
 * One logical WebSocket connection: a state machine that owns the socket in hand, its
 * heartbeat, reconnect schedule and outbox. Framework-free; the environment is injected.
 *
 * Every socket callback first checks that its socket is still the current one, so late
 * events from a replaced socket change nothing. Every timer has one owner that clears it.
 * Listeners run after the state they observe is complete, and whatever a listener does
 * (`close()`, `reconnect()`...) is final: the transition that called it never resumes.
 */
export class Connection<In = unknown, Out = unknown> {
  static {
    internals = {
      send: (connection, data, options, tag, gone) => connection.#writer.send(connection.#serializer.encode(data), options, tag, gone),
      take: (connection) => connection.#writer.take(),
    }
  }

  readonly url: string
  readonly key: string
  readonly protocols: string | string[] | undefined
  /** The options this connection was created with (the manager compares later acquirers against them). */
  readonly options: Readonly<ConnectionOptions<In, Out>>

  readonly #env: RealtimeEnvironment
  readonly #reconnect: ResolvedReconnectOptions | null
  readonly #serializer: Serializer<In, Out>
  readonly #emitter = new Emitter<ConnectionEvents<In>>((error, event) => this.#callbackFailed(error, event))
  // Kept for the per-frame path: no lookup by event name per frame.
  readonly #messageChannel = this.#emitter.channel('message')
  readonly #frameInChannel = this.#emitter.channel('frameIn')
  readonly #writer: Writer
  readonly #heartbeat: Heartbeat | null

  #socket: WebSocketLike | null = null
  #state: ConnectionState = IDLE_STATE
  // One entry per slot from the start: a read past an array's end takes V8's slow path, and
  // `#received` reads the COUNTERS slot for every inbound frame.
  #timers: TimerHandle[] = [null, null, null, null, null]
  #stopEnvironment: (() => void) | null = null
  /**
   * Bumped by every transition. A transition that hands control to user code (a listener,
   * `shouldReconnect`, a frame callback) goes on only if no other transition ran meanwhile.
   */
  #turn = 0
  /** When the link was lost (for `maxElapsed`), on the steady clock; null while stable. */
  #lostAt: number | null = null
  /** `now` for durations: a step back of the system clock is skipped (see `steadyClock`). */
  readonly #steady: () => number
  /** This outage's place in every backoff slot, in [0, 1): drawn at its first retry. */
  #phase = 0
  /** The server's retry hint for this outage, with the attempt and steady time it counts from (cleared on open). */
  #hint: (RetryHint & { attempt: number; at: number }) | null = null
  /** Closed by pagehide; reopened by a persisted pageshow. */
  #suspended = false
  #disposed = false
  #quietLinks = 0
  #warnedQuiet = false
  #receivedCount = 0

  constructor(url: string | URL, options: ConnectionOptions<In, Out> = {}) {
    this.url = normalizeUrl(url)
    this.protocols = options.protocols
    this.key = connectionKey(this.url, options.protocols)
    this.options = options
    this.#env = resolveEnvironment({ ...options.environment, WebSocket: options.WebSocket ?? options.environment?.WebSocket })
    this.#reconnect = resolveReconnect(options.reconnect)
    this.#serializer = options.serializer ?? (jsonSerializer as Serializer<In, Out>)
    this.#steady = steadyClock(this.#env.now)
    // Deadlines and ttls are durations: measured on the steady clock.
    const timing = { ...this.#env, now: this.#steady }
    this.#writer = new Writer(resolveQueue(options.queue), timing, {
      openSocket: () => (this.#state.status === 'open' && this.#socket?.readyState === 1 ? this.#socket : null),
      alive: () => (this.#heartbeat?.check() ?? 'alive') === 'alive',
      write: (data) => this.#write(data),
      changed: (now) => (now ? this.#update({}) : this.#countersChanged()),
      dropped: (count, reason) => this.#dropped(count, reason),
      failed: (error) => this.#callbackFailed(error, 'sendFrame'),
    })
    const heartbeat = resolveHeartbeat(options.heartbeat)
    this.#heartbeat =
      heartbeat &&
      new Heartbeat(heartbeat, timing, {
        ping: (data) => this.#write(data),
        dead: () => this.#timedOut('heartbeat'),
        latency: (ms) => this.#update({ latency: ms }),
        bufferedAmount: () => this.#socket?.bufferedAmount ?? 0,
        failed: (error, where) => this.#callbackFailed(error, where),
      })
  }

  /** The current state. A new object after every change, so it can be compared by identity. */
  get state(): Readonly<ConnectionState> {
    const state = this.#state
    // Counters change without an event of their own (see COUNTERS_FOLD_MS): brought up to date when read.
    if (state.received !== this.#receivedCount || state.sent !== this.#writer.sent) {
      this.#state = { ...state, received: this.#receivedCount, sent: this.#writer.sent }
    }
    return this.#state
  }

  get status(): ConnectionStatus {
    return this.#state.status
  }

  /** Subscribes to an event; returns the remover. */
  on<K extends keyof ConnectionEvents<In>>(event: K, listener: (payload: ConnectionEvents<In>[K]) => void): () => void {
    return this.#emitter.on(event, listener)
  }

  /**
   * Opens the connection (no-op while connecting or open). Reopens after `close()` or `failed`,
   * and during a closing handshake (which is abandoned). Offline, it waits for `online`.
   */
  open(): void {
    if (this.#refuseDisposed('open')) return
    const { status } = this.#state
    if (status === 'connecting' || status === 'open') return
    if (this.#env.isOnline()) return this.reconnect()
    this.#turn++
    this.#teardown()
    this.#freshStart()
    this.#watchEnvironment()
    this.#update({ status: 'offline' })
  }

  /**
   * Closes the connection for this page's app only (`manager.closeAll()`, on `app.unmount()`):
   * `close()` here; a connection shared across tabs leaves the group instead, and the other
   * tabs keep the socket. `open()` brings it back either way.
   * @internal
   */
  closeForApp(code = 1000, reason = ''): void {
    this.close(code, reason)
  }

  /**
   * Closes the connection on the user's behalf: status `closed`, never reconnects by itself.
   * Queued messages are kept for a later `open()`.
   */
  close(code = 1000, reason = ''): void {
    if (this.#state.status === 'closing') return
    this.#turn++
    this.#unwatchEnvironment()
    this.#suspended = false
    const socket = this.#socket
    if (socket?.readyState !== 1 || this.#state.status !== 'open') return this.#closed(closeInfo(code, reason, true))
    this.#stop()
    const lost = this.#writer.cut()
    socket.onclose = (event) => {
      if (this.#socket === socket) this.#closed(closeInfo(event.code, event.reason, event.wasClean))
    }
    try {
      socket.close(isSendableCloseCode(code) ? code : 1000, reason)
    } catch (error) {
      this.#report('socket', `close(${code}) failed: ${(error as Error).message}`, error)
      return this.#closed(closeInfo(code, reason))
    }
    // A dead link never completes the handshake; don't let `closing` hang on it.
    this.#after(CLOSE, CLOSE_GRACE_MS, () => this.#closed(closeInfo(code, reason)))
    this.#update({ status: 'closing' })
    this.#writer.settle(lost, false)
  }

  /** Retries now: cancels a scheduled retry, or replaces the socket in hand. Works from `failed` and `closed` too. */
  reconnect(): void {
    if (this.#refuseDisposed('reconnect')) return
    this.#freshStart()
    this.#watchEnvironment()
    this.#connect()
  }

  /**
   * Sends a message: objects are JSON-encoded (or go through `serializer`), strings and
   * binary pass through. While the socket is not open, the link is suspect (a heartbeat probe
   * is under way) or congested (`bufferedAmount` above `queue.highWaterMark`), the message is
   * queued (bounded) and written in order later, on this socket or the next one.
   * `volatile` messages are dropped instead, and counted in `dropped`.
   * @throws TypeError when the message cannot be encoded (nothing is queued).
   * @throws OutboxFullError when the queue is full and `queue.overflow` is `'error'`.
   */
  send(data: Out | WebSocketData, options: SendOptions = {}): SendResult {
    return this.#writer.send(this.#serializer.encode(data as Out), options)
  }

  /**
   * Writes one frame on the socket in hand, exactly once, or tells that it was not written:
   * the primitive for a protocol layer that resends on the next socket itself (and must never
   * run a request twice). While the link is suspect or congested the frame waits, like a
   * queued `send`, for the probe's answer or the drain; it is never carried to another socket.
   *
   * `settled` is called once: `true` when the frame was written, `false` when it was not
   * (no open socket, or that socket was lost, replaced or closed first). Synchronously when
   * the outcome is known at once (`'sent'`, `'dropped'`). Waiting frames are not bounded by
   * `queue` and not counted in `queued`/`dropped`: the caller owns them.
   * @returns `'sent'` (written now), `'queued'` (waiting on this socket), `'dropped'` (not written).
   * @throws TypeError when the frame cannot be encoded.
   */
  sendFrame(data: Out | WebSocketData, settled?: FrameSettled): SendResult {
    return this.#writer.sendFrame(this.#serializer.encode(data as Out), settled)
  }

  /**
   * Closes for good (status `closed` at once, even during a closing handshake) and removes
   * every listener and environment subscription. Messages still queued are counted in
   * `dropped` and reported; waiting frames are settled as not written. `open()` and
   * `reconnect()` do nothing afterwards.
   */
  dispose(code = 1000, reason = ''): void {
    if (this.#disposed) return
    // First: a listener that reacts to this close by reopening must not bring it back.
    this.#disposed = true
    this.close(code, reason)
    if (this.#state.status === 'closing') this.#closed(closeInfo(code, reason, true))
    this.#writer.discard()
    this.#emitter.clear()
  }

  // ── socket life ──────────────────────────────────────────────────────────────

  #connect(): void {
    if (this.#state.status === 'open') {
      // The open link in hand is replaced: it ended here, like any other.
      const turn = ++this.#turn
      const info = closeInfo(1000, 'replaced by reconnect()', true)
      const lost = this.#teardown(1000, 'replaced')
      this.#update({ status: 'reconnecting', lastClose: info })
      this.#announce(turn, lost, null, info)
      if (turn !== this.#turn) return
    }
    const turn = ++this.#turn
    this.#teardown(1000, 'replaced')
    const WebSocketImpl = this.#env.WebSocket
    if (!WebSocketImpl) {
      const message =
        'vue-realtime: no WebSocket implementation' +
        (process.env.NODE_ENV !== 'production'
          ? '. In Node pass one: `{ WebSocket }` from the "ws" package (or upgrade to Node 22+, which has a global WebSocket).'
          : '')
      this.#unwatchEnvironment()
      this.#update({ status: 'failed' })
      this.#report('socket', message)
      throw new Error(message)
    }
    let protocols: string | string[] | undefined
    try {
      protocols = this.#protocolsWithToken()
    } catch (error) {
      const failure = errorInfo('auth', (error as Error).message, error)
      return this.#afterLoss(turn, closeInfo(ABNORMAL, 'no usable token'), false, [], failure)
    }
    let socket: WebSocketLike
    try {
      socket = new WebSocketImpl(this.url, protocols)
    } catch (error) {
      const failure = errorInfo('socket', `new WebSocket(${this.url}) threw: ${(error as Error).message}`, error)
      return this.#afterLoss(turn, closeInfo(ABNORMAL, 'constructor threw'), false, [], failure)
    }
    this.#socket = socket
    socket.binaryType = this.options.binaryType ?? 'arraybuffer'
    socket.onopen = () => this.#socket === socket && this.#opened(socket)
    const native = listenToFrames(socket, (data) => this.#socket === socket && this.#received(socket, data))
    if (!native) socket.onmessage = (event) => this.#socket === socket && this.#received(socket, event.data)
    socket.onerror = (event) => {
      if (this.#socket !== socket) return
      const { message, error } = (event ?? {}) as { message?: string; error?: Error }
      const detail = message ?? error?.message
      this.#report('socket', `WebSocket error on ${this.url}${detail ? `: ${detail}` : ''}`, event)
    }
    socket.onclose = (event) => {
      if (this.#socket !== socket) return
      // A server's retry hint is for the schedule, not for people: `lastClose.reason` goes without it.
      const hint = parseRetryHint(event.reason)
      this.#lose(closeInfo(event.code, hint ? hint.rest : event.reason, event.wasClean), undefined, hint)
    }
    this.#after(CONNECT, this.options.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT, () => {
      if (this.#socket === socket && socket.readyState === 0) this.#timedOut('connect')
    })
    this.#update({ status: 'connecting' })
  }

  /** `protocols` plus the token's subprotocol, read now (a getter may refresh it). */
  #protocolsWithToken(): string | string[] | undefined {
    const { token: option, tokenProtocol = TOKEN_PROTOCOL_PREFIX } = this.options
    let token: string | null | undefined
    try {
      token = typeof option === 'function' ? option() : option
    } catch (error) {
      throw new Error(`vue-realtime: the token getter for ${this.url} threw: ${errorMessage(error)}. Fix the getter; the connection retries with backoff.`, { cause: error })
    }
    if (!token) return this.protocols
    const protocol = tokenProtocol + token
    if (!SUBPROTOCOL_TOKEN.test(protocol)) {
      // The token itself stays out of the message: it is a secret.
      throw new Error(
        `vue-realtime: the token for ${this.url} has characters a WebSocket subprotocol cannot carry. Encode it as base64url (letters, digits, "-" and "_").`,
      )
    }
    const base = this.protocols === undefined ? [] : typeof this.protocols === 'string' ? [this.protocols] : this.protocols
    return [...base, protocol]
  }

  #opened(socket: WebSocketLike): void {
    const turn = ++this.#turn
    this.#cancel(CONNECT)
    this.#hint = null
    this.#heartbeat?.start()
    // The retry count resets only after the link proved stable, so a server that accepts
    // and drops at once still sees the backoff grow.
    this.#after(UPTIME, this.#reconnect?.minUptime ?? 0, () => {
      this.#lostAt = null
      if (this.#state.attempt !== 0) this.#update({ attempt: 0 })
    })
    this.#update({ status: 'open', error: null })
    // What waited goes first; what `open` listeners send follows it.
    if (turn === this.#turn) this.#writer.flush()
    if (turn === this.#turn) this.#emitter.emit('open', { protocol: socket.protocol })
  }

  #received(socket: WebSocketLike, raw: unknown): void {
    // No event object per frame unless someone (devtools) listens.
    if (this.#frameInChannel.listeners.length > 0) this.#emitter.dispatch(this.#frameInChannel, 'frameIn', { data: raw })
    if (this.#heartbeat?.inbound(raw) !== true) {
      let message: In | undefined
      let decoded = false
      try {
        message = this.#serializer.decode(raw)
        decoded = true
      } catch (error) {
        this.#report('decode', `Could not decode a frame from ${this.url}: ${(error as Error).message}`, error)
      }
      if (decoded) {
        this.#receivedCount++
        // A fold is armed only while open (any status change cancels it), and its event will
        // carry this count. Checked here: the state's shape varies, and reading it for every
        // frame kept deoptimizing this path.
        if (this.#timers[COUNTERS] == null) this.#countersChanged()
        this.#emitter.dispatch(this.#messageChannel, 'message', message as In)
      }
    }
    // Any frame answers a probe: what waited for it goes now rather than at the next poll.
    if (this.#socket === socket) this.#writer.poke()
  }

  /** A timeout declared the socket in hand dead. */
  #timedOut(what: 'heartbeat' | 'connect'): void {
    if (process.env.NODE_ENV !== 'production' && what === 'heartbeat' && this.#heartbeat?.answered === false) this.#quietLinkLost()
    this.#lose(closeInfo(ABNORMAL, `${what} timeout`), `${what}-timeout`)
  }

  /**
   * A link whose server never answered a ping timed out. A quiet server (one that never
   * answers pings) looks exactly like this on every link, so say how to fix it, once.
   * Development builds only: the counters serve the warning alone.
   */
  #quietLinkLost(): void {
    if (process.env.NODE_ENV !== 'production') {
      if (++this.#quietLinks < QUIET_LINKS_BEFORE_WARNING || this.#warnedQuiet) return
      this.#warnedQuiet = true
      console.warn(
        `[vue-realtime] ${redactSecrets(this.url)}: the server sent nothing within heartbeat.timeout of a ping on ${this.#quietLinks} links in a row, so each was dropped as dead. ` +
          'If this server does not answer pings, set `heartbeat: false`; if it answers with its own frame, recognise it with `heartbeat: { message, isPong }`.',
      )
    }
  }

  /**
   * The socket in hand is gone (closed by the peer, errored, timed out or declared dead).
   * Detaches it at once: never waits for a closing handshake on a dead link. A link that
   * was open ends in `lastClose`; an attempt that never opened is reported through `error`.
   */
  #lose(info: CloseInfo, kind?: RealtimeErrorInfo['kind'], hint: RetryHint | null = null): void {
    const turn = ++this.#turn
    const wasOpen = this.#state.status === 'open'
    if (process.env.NODE_ENV !== 'production' && wasOpen && kind !== 'heartbeat-timeout') this.#quietLinks = 0
    const lost = this.#teardown(1000, info.reason)
    const detail = `${info.code} ${info.name}${info.reason ? `: ${info.reason}` : ''}`
    const error = kind ? errorInfo(kind, `${info.reason} on ${this.url}`) : wasOpen ? null : errorInfo('socket', `Could not connect to ${this.url} (${detail}).`)
    this.#afterLoss(turn, info, wasOpen, lost, error, hint)
  }

  /** After a loss (the socket already torn down): retry with backoff, or fail. Then tell. */
  #afterLoss(turn: number, info: CloseInfo, wasOpen: boolean, lost: WaitingFrame[], error: RealtimeErrorInfo | null, hint: RetryHint | null = null): void {
    const now = this.#steady()
    const lostAt = (this.#lostAt ??= now)
    const attempt = this.#state.attempt + 1
    const options = this.#reconnect
    let retry = false
    if (options && attempt <= options.retries && now - lostAt <= options.maxElapsed) {
      let verdict: boolean | undefined
      try {
        verdict = options.shouldReconnect?.(info, attempt)
      } catch (failure) {
        this.#callbackFailed(failure, 'shouldReconnect')
      }
      // `shouldReconnect` may itself have closed or reconnected: that stands.
      if (turn !== this.#turn) return this.#writer.settle(lost, false)
      retry = verdict ?? info.retryable
    }
    if (hint && retry && options?.serverHint) this.#hint = { delay: hint.delay, window: hint.window, attempt, at: now }
    const patch: Partial<ConnectionState> = retry ? this.#scheduleRetry(attempt) : { status: 'failed' }
    if (!retry) this.#unwatchEnvironment()
    if (wasOpen) patch.lastClose = info
    if (error) patch.error = error
    this.#update(patch)
    this.#announce(turn, lost, error, info)
  }

  /** Arms the next retry (unless offline or hidden) and returns the state that says so. */
  #scheduleRetry(attempt: number): Partial<ConnectionState> {
    this.#cancel(RETRY)
    // One phase per outage: every retry lands at the same place in its slot (see `retryDelay`).
    if (attempt === 1) this.#phase = this.#env.random()
    if (!this.#env.isOnline()) return { status: 'offline', attempt }
    // A hidden page spends no retries; becoming visible reconnects at once.
    if (!this.#env.isVisible()) return { status: 'reconnecting', attempt }
    const now = this.#steady()
    const hint = this.#hint
    const delay = hint
      ? hintedDelay(attempt - hint.attempt + 1, now - hint.at, hint, this.#reconnect!)
      : retryDelay(attempt, now - (this.#lostAt ?? now), this.#reconnect!, this.#env.random, this.#phase)
    this.#after(RETRY, delay, () => this.#connect())
    return { status: 'reconnecting', attempt, nextRetryAt: Math.round(this.#env.now() + delay) }
  }

  /** Closed on the user's behalf (handshake done, timed out, or no open socket). */
  #closed(info: CloseInfo): void {
    const { status } = this.#state
    this.#end('closed', info, status === 'open' || status === 'closing', status !== 'closed')
  }

  /** Offline or page hidden: drop the socket at once; the environment's next event brings it back. */
  #pause(status: 'offline' | 'idle', info: CloseInfo): void {
    this.#end(status, info, this.#state.status === 'open', this.#socket !== null)
  }

  /** Ends the socket in hand without a retry: `info` is the `lastClose` if a link `ended`, and told to `close` listeners if `tell`. */
  #end(status: 'closed' | 'offline' | 'idle', info: CloseInfo, ended: boolean, tell: boolean): void {
    const turn = ++this.#turn
    const lost = this.#teardown(info.code, info.reason)
    this.#update({ status, ...(ended ? { lastClose: info } : {}) })
    this.#announce(turn, lost, null, tell ? info : null)
  }

  /**
   * Tells listeners what the transition did, once its state is complete: frames that were not
   * written (always, each exactly once), then the error and the close, unless a listener
   * already started another transition.
   */
  #announce(turn: number, lost: WaitingFrame[], error: RealtimeErrorInfo | null, close: CloseInfo | null): void {
    this.#writer.settle(lost, false)
    if (error && turn === this.#turn) this.#emitter.emit('error', error)
    if (close && turn === this.#turn) this.#emitter.emit('close', close)
  }

  /** A new life after `closed`, `failed`, `idle` or `closing`: the retry count starts again. */
  #freshStart(): void {
    this.#suspended = false
    const { status } = this.#state
    if (status === 'closed' || status === 'failed' || status === 'idle' || status === 'closing') {
      this.#lostAt = null
      this.#hint = null
      if (this.#state.attempt !== 0) this.#update({ attempt: 0 })
    }
  }

  /**
   * Ends the socket in hand, its heartbeat and every timer: one path for every way a socket
   * ends. Returns the frames that waited on it (not written; the caller settles them).
   */
  #teardown(code = 1000, reason = ''): WaitingFrame[] {
    this.#stop()
    if (this.#socket) discard(this.#socket, code, reason)
    this.#socket = null
    return this.#writer.cut()
  }

  /** Clears every timer and stops the heartbeat (the socket stays in hand). */
  #stop(): void {
    for (const handle of this.#timers) this.#env.clearTimeout(handle)
    this.#timers.fill(null)
    this.#heartbeat?.stop()
  }

  #after(slot: number, ms: number, fn: () => void): void {
    this.#cancel(slot)
    this.#timers[slot] = this.#env.setTimeout(() => {
      this.#timers[slot] = null
      fn()
    }, ms)
  }

  #cancel(slot: number): void {
    this.#env.clearTimeout(this.#timers[slot])
    this.#timers[slot] = null
  }

  #refuseDisposed(method: string): boolean {
    if (!this.#disposed) return false
    if (process.env.NODE_ENV !== 'production') {
      console.warn(redactSecrets(`[vue-realtime] ${method}() on a disposed connection to ${this.url} does nothing. Acquire a new one from the manager.`))
    }
    return true
  }

  // ── writing ──────────────────────────────────────────────────────────────────

  #dropped(count: number, reason: DropReason): void {
    const what =
      reason === 'ttl'
        ? 'expired (queue ttl)'
        : reason === 'closed'
          ? 'were never written: the connection was disposed (or the socket refused them)'
          : `did not fit the send queue (overflow: ${this.options.queue?.overflow ?? 'drop-oldest'})`
    this.#report('dropped', `${count} message(s) for ${this.url} ${what} and were dropped.`)
  }

  #write(data: WebSocketData): boolean {
    const socket = this.#socket
    if (!socket) return false
    try {
      socket.send(data)
    } catch (error) {
      this.#report('socket', `send failed on ${this.url}: ${(error as Error).message}`, error)
      return false
    }
    if (this.#emitter.has('frameOut')) this.#emitter.emit('frameOut', { data })
    return true
  }

  // ── environment ──────────────────────────────────────────────────────────────

  #watchEnvironment(): void {
    this.#stopEnvironment ??= this.#env.subscribe((event) => this.#onEnvironment(event))
  }

  #unwatchEnvironment(): void {
    this.#stopEnvironment?.()
    this.#stopEnvironment = null
  }

  #onEnvironment(event: EnvironmentEvent): void {
    const { status } = this.#state
    const live = status === 'connecting' || status === 'open' || status === 'reconnecting'
    switch (event.type) {
      case 'offline':
        if (live) this.#pause('offline', closeInfo(ABNORMAL, 'offline'))
        return
      case 'online':
        if (status === 'offline') this.#connect()
        return
      case 'hidden':
        if (status === 'reconnecting' && this.#timers[RETRY] != null) {
          this.#cancel(RETRY)
          this.#update({ nextRetryAt: null })
        }
        return
      case 'visible':
        if (status === 'reconnecting') this.#connect()
        // A wall-clock check first (a sleeping laptop): a dead link is verified, a live one probed.
        else if (status === 'open' && this.#heartbeat?.check() === 'alive') this.#heartbeat.probe()
        return
      case 'pagehide':
        if (live && this.options.closeOnPageHide !== false) {
          this.#suspended = true
          this.#pause('idle', closeInfo(1001, 'page hidden', true))
        }
        return
      case 'pageshow':
        if (this.#suspended && event.persisted) {
          this.#suspended = false
          if (this.#env.isOnline()) this.#connect()
          else this.#update({ status: 'offline' })
        }
    }
  }

  // ── state ────────────────────────────────────────────────────────────────────

  /**
   * Publishes a new state. A new `status` implies the `readyState` (the socket in hand is
   * connecting, open, closing, or there is none) and clears `nextRetryAt` unless given.
   */
  #update(patch: Partial<ConnectionState>): void {
    const { status } = patch
    if (status) {
      const readyState = (['connecting', 'open', 'closing'] as ConnectionStatus[]).indexOf(status)
      patch = { nextRetryAt: null, readyState: readyState < 0 ? 3 : (readyState as ReadyState), ...patch }
    }
    const writer = this.#writer
    this.#state = { ...this.#state, ...patch, queued: writer.queued, received: this.#receivedCount, sent: writer.sent, dropped: writer.dropped }
    // This event carries the counters: a fold under way has nothing left to publish.
    this.#cancel(COUNTERS)
    this.#emitter.emit('state', this.#state)
  }

  /**
   * `received` or `sent` changed: while open, one `state` event for every change within
   * COUNTERS_FOLD_MS. Otherwise (a frame during the closing handshake) at once: a status that
   * ends the link keeps only the timers it needs.
   */
  #countersChanged(): void {
    if (this.#state.status !== 'open') this.#update({})
    else if (this.#timers[COUNTERS] == null) this.#after(COUNTERS, COUNTERS_FOLD_MS, () => this.#update({}))
  }

  #report(kind: RealtimeErrorInfo['kind'], message: string, cause?: unknown): void {
    // Messages name the URL, which may carry `?token=`; they reach logs, the store and devtools.
    const error = errorInfo(kind, message, cause)
    this.#update({ error })
    this.#emitter.emit('error', error)
  }

  #callbackFailed(error: unknown, where: PropertyKey): void {
    const message = callbackThrew(where, error)
    // Never recurse into the error listener that just threw.
    if (where === 'error') console.error(message, error)
    else this.#report('callback', message, error)
  }
}
