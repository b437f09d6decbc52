import { backoffDelay, resolveReconnect, type ResolvedReconnectOptions } from './backoff'
import { closeCodeInfo, isSendableCloseCode } from './closeCodes'
import { Emitter } from './emitter'
import { resolveEnvironment } from './environment'
import { Heartbeat, resolveHeartbeat } from './heartbeat'
import { Outbox, resolveQueue, type ResolvedQueueOptions } from './outbox'
import { TOKEN_PROTOCOL_PREFIX } from './protocol'
import { redactError, redactSecrets } from './redact'
import { jsonSerializer } from './serializer'
import { connectionKey, normalizeUrl } from './url'
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
/** While `bufferedAmount` is above the high-water mark, re-check the socket this often. */
const DRAIN_POLL_MS = 50
/** A user `close()` waits this long for the closing handshake before cutting the socket. */
const CLOSE_GRACE_MS = 2_000
const DEFAULT_CONNECT_TIMEOUT = 10_000
/** What a subprotocol may hold (RFC 6455 §4.1: an HTTP token); browsers throw on anything else. */
const SUBPROTOCOL_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

// The connection's timers, by slot. Each slot holds at most one timer; `#stop()` clears all.
const RETRY = 0
const CONNECT = 1
const UPTIME = 2
const CLOSE = 3
const DRAIN = 4

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
})

function closeInfo(code: number, reason: string, wasClean = false): CloseInfo {
  return { ...closeCodeInfo(code), reason, wasClean }
}

/** Detaches a socket and ends it without waiting: `terminate()` where available (ws). */
function discard(socket: WebSocketLike, code: number, reason: string): void {
  socket.onopen = socket.onmessage = socket.onclose = null
  // Keep an error listener: `ws` throws on an 'error' event nobody listens to.
  socket.onerror = () => {}
  try {
    if (socket.terminate) socket.terminate()
    else if (socket.readyState < 2) socket.close(isSendableCloseCode(code) ? code : 1000, reason.slice(0, 120))
  } catch {
    // Closing a socket that is already gone is not an error worth reporting.
  }
}

/**
 * One logical WebSocket connection: a state machine that owns the socket in hand, its
 * heartbeat, reconnect schedule and outbox. Framework-free; the environment is injected.
 *
 * Every socket callback first checks that its socket is still the current one, so late
 * events from a replaced socket change nothing. Every timer has one owner that clears it.
 */
export class Connection<In = unknown, Out = unknown> {
  readonly url: string
  readonly key: string
  readonly protocols: string | string[] | undefined
  /** The options this connection was created with (the manager compares later acquirers against them). */
  readonly options: Readonly<ConnectionOptions<In, Out>>

  readonly #env: RealtimeEnvironment
  readonly #reconnect: ResolvedReconnectOptions | null
  readonly #queue: ResolvedQueueOptions
  readonly #serializer: Serializer<In, Out>
  readonly #emitter = new Emitter<ConnectionEvents<In>>((error, event) => this.#callbackFailed(error, String(event)))
  readonly #outbox: Outbox
  readonly #heartbeat: Heartbeat | null

  #socket: WebSocketLike | null = null
  #state: ConnectionState = IDLE_STATE
  #timers: TimerHandle[] = []
  #stopEnvironment: (() => void) | null = null
  /** When the link was lost (for `maxElapsed`); null while stable. */
  #lostAt: number | null = null
  /** Closed by pagehide; reopened by a persisted pageshow. */
  #suspended = false
  #countersDirty = false
  #receivedCount = 0
  #sentCount = 0

  constructor(url: string | URL, options: ConnectionOptions<In, Out> = {}) {
    this.url = normalizeUrl(url)
    this.protocols = options.protocols
    this.key = connectionKey(this.url, options.protocols)
    this.options = options
    this.#env = resolveEnvironment({ ...options.environment, WebSocket: options.WebSocket ?? options.environment?.WebSocket })
    this.#reconnect = resolveReconnect(options.reconnect)
    this.#queue = resolveQueue(options.queue)
    this.#serializer = options.serializer ?? (jsonSerializer as Serializer<In, Out>)
    this.#outbox = new Outbox(this.#queue)
    const heartbeat = resolveHeartbeat(options.heartbeat)
    this.#heartbeat =
      heartbeat &&
      new Heartbeat(heartbeat, this.#env, {
        ping: (data) => this.#write(data),
        dead: () => this.#timedOut('heartbeat'),
        latency: (ms) => this.#update({ latency: ms }),
      })
  }

  /** The current state. A new object after every change, so it can be compared by identity. */
  get state(): Readonly<ConnectionState> {
    return this.#state
  }

  get status(): ConnectionStatus {
    return this.#state.status
  }

  /** Subscribes to an event; returns the remover. */
  on<K extends keyof ConnectionEvents<In>>(event: K, listener: (payload: ConnectionEvents<In>[K]) => void): () => void {
    return this.#emitter.on(event, listener)
  }

  /** Opens the connection (no-op while connecting or open). Reopens after `close()` or `failed`. */
  open(): void {
    const { status } = this.#state
    if (status === 'connecting' || status === 'open') return
    if (this.#env.isOnline()) return this.reconnect()
    // Offline: wait for the environment's `online` event.
    this.#suspended = false
    this.#watchEnvironment()
    this.#cancel(RETRY)
    this.#update({ status: 'offline' })
  }

  /**
   * Closes the connection on the user's behalf: status `closed`, never reconnects by itself.
   * Queued messages are kept for a later `open()`.
   */
  close(code = 1000, reason = ''): void {
    this.#unwatchEnvironment()
    this.#suspended = false
    const socket = this.#socket
    if (socket?.readyState !== 1) return this.#closed(closeInfo(code, reason, true))
    this.#stop()
    this.#update({ status: 'closing' })
    socket.onclose = (event) => {
      if (this.#socket === socket) this.#closed(closeInfo(event.code, event.reason, event.wasClean))
    }
    try {
      socket.close(isSendableCloseCode(code) ? code : 1000, reason)
    } catch (error) {
      this.#report('socket', `close(${code}) failed: ${(error as Error).message}`, error)
    }
    // A dead link never completes the handshake; don't let `closing` hang on it.
    if (this.#socket === socket) this.#after(CLOSE, CLOSE_GRACE_MS, () => this.#closed(closeInfo(code, reason)))
  }

  /** Retries now: cancels a scheduled retry, or replaces the socket in hand. Works from `failed` and `closed` too. */
  reconnect(): void {
    this.#suspended = false
    this.#watchEnvironment()
    const { status } = this.#state
    if (status === 'closed' || status === 'failed' || status === 'idle') {
      this.#lostAt = null
      if (this.#state.attempt !== 0) this.#update({ attempt: 0 })
    }
    this.#connect()
  }

  /**
   * Sends a message: objects are JSON-encoded (or go through `serializer`), strings and
   * binary pass through. While the socket is not open the message is queued (bounded) and
   * flushed in order on open; `volatile` messages are dropped instead.
   * @throws TypeError when the message cannot be encoded (nothing is queued).
   * @throws OutboxFullError when the queue is full and `queue.overflow` is `'error'`.
   */
  send(data: Out | WebSocketData, options: SendOptions = {}): SendResult {
    const encoded = this.#serializer.encode(data as Out)
    const socket = this.#socket
    if (socket?.readyState === 1 && this.#state.status === 'open') {
      const health = this.#heartbeat?.check() ?? 'alive'
      if (health === 'dead') {
        this.#timedOut('heartbeat')
      } else if (health === 'alive' && this.#outbox.size === 0 && socket.bufferedAmount <= this.#queue.highWaterMark) {
        this.#write(encoded)
        this.#sentCount++
        this.#countersChanged()
        return 'sent'
      } else if (!options.volatile) {
        // Suspect link or congestion: hold the message until the probe answers or the buffer drains.
        const result = this.#enqueue(encoded, options)
        this.#scheduleDrain()
        return result
      }
    }
    return options.volatile ? 'dropped' : this.#enqueue(encoded, options)
  }

  /** Closes for good and removes every listener and environment subscription. */
  dispose(): void {
    this.close()
    this.#teardown()
    this.#outbox.clear()
    this.#emitter.clear()
  }

  // ── socket life ──────────────────────────────────────────────────────────────

  #connect(): void {
    this.#teardown(1000, 'replaced')
    const WebSocketImpl = this.#env.WebSocket
    if (!WebSocketImpl) {
      const message =
        'vue-realtime: no WebSocket implementation' +
        (process.env.NODE_ENV !== 'production'
          ? '. In Node pass one: `{ WebSocket }` from the "ws" package (or upgrade to Node 22+, which has a global WebSocket).'
          : '')
      this.#update({ status: 'failed' })
      this.#report('socket', message)
      throw new Error(message)
    }
    let protocols: string | string[] | undefined
    try {
      protocols = this.#protocolsWithToken()
    } catch (error) {
      this.#report('auth', (error as Error).message, error)
      return this.#afterLoss(closeInfo(ABNORMAL, 'no usable token'))
    }
    let socket: WebSocketLike
    try {
      socket = new WebSocketImpl(this.url, protocols)
    } catch (error) {
      this.#report('socket', `new WebSocket(${this.url}) threw: ${(error as Error).message}`, error)
      return this.#afterLoss(closeInfo(ABNORMAL, 'constructor threw'))
    }
    this.#socket = socket
    socket.binaryType = this.options.binaryType ?? 'arraybuffer'
    socket.onopen = () => this.#socket === socket && this.#opened(socket)
    socket.onmessage = (event) => this.#socket === socket && this.#received(event.data)
    socket.onerror = (event) => {
      if (this.#socket !== socket) return
      const { message, error } = (event ?? {}) as { message?: string; error?: Error }
      const detail = message ?? error?.message
      this.#report('socket', `WebSocket error on ${this.url}${detail ? `: ${detail}` : ''}`, event)
    }
    socket.onclose = (event) => this.#socket === socket && this.#lose(closeInfo(event.code, event.reason, event.wasClean))
    this.#update({ status: 'connecting' })
    this.#after(CONNECT, this.options.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT, () => {
      if (this.#socket === socket && socket.readyState === 0) this.#timedOut('connect')
    })
  }

  /** `protocols` plus the token's subprotocol, read now (a getter may refresh it). */
  #protocolsWithToken(): string | string[] | undefined {
    const { token: option, tokenProtocol = TOKEN_PROTOCOL_PREFIX } = this.options
    let token: string | null | undefined
    try {
      token = typeof option === 'function' ? option() : option
    } catch (error) {
      throw new Error(`vue-realtime: the token getter for ${this.url} threw: ${(error as Error)?.message ?? String(error)}. Fix the getter; the connection retries with backoff.`, { cause: error })
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
    this.#cancel(CONNECT)
    this.#update({ status: 'open', error: null })
    this.#heartbeat?.start()
    // The retry count resets only after the link proved stable, so a server that accepts
    // and drops at once still sees the backoff grow.
    this.#after(UPTIME, this.#reconnect?.minUptime ?? 0, () => {
      this.#lostAt = null
      if (this.#state.attempt !== 0) this.#update({ attempt: 0 })
    })
    this.#emitter.emit('open', { protocol: socket.protocol })
    this.#flush()
  }

  #received(raw: unknown): void {
    // `has` first: no event object per frame unless devtools listens.
    if (this.#emitter.has('frameIn')) this.#emitter.emit('frameIn', { data: raw })
    if (this.#heartbeat?.inbound(raw)) return
    let message: In
    try {
      message = this.#serializer.decode(raw)
    } catch (error) {
      return this.#report('decode', `Could not decode a frame from ${this.url}: ${(error as Error).message}`, error)
    }
    this.#receivedCount++
    this.#countersChanged()
    this.#emitter.emit('message', message)
  }

  /** A timeout declared the socket in hand dead. */
  #timedOut(what: 'heartbeat' | 'connect'): void {
    this.#lose(closeInfo(ABNORMAL, `${what} timeout`), `${what}-timeout`)
  }

  /**
   * The socket in hand is gone (closed by the peer, errored, timed out or declared dead).
   * Detaches it at once: never waits for a closing handshake on a dead link.
   */
  #lose(info: CloseInfo, kind?: RealtimeErrorInfo['kind']): void {
    this.#teardown(1000, info.reason)
    if (kind) this.#report(kind, `${info.reason} on ${this.url}`)
    this.#afterLoss(info)
  }

  /** After a loss (the socket already torn down): retry with backoff, or fail. */
  #afterLoss(info: CloseInfo): void {
    this.#update({ lastClose: info, readyState: 3 })
    this.#emitter.emit('close', info)
    const now = this.#env.now()
    const lostAt = (this.#lostAt ??= now)
    const attempt = this.#state.attempt + 1
    const options = this.#reconnect
    let retry = false
    if (options && attempt <= options.retries && now - lostAt <= options.maxElapsed) {
      let verdict: boolean | undefined
      try {
        verdict = options.shouldReconnect?.(info, attempt)
      } catch (error) {
        this.#callbackFailed(error, 'shouldReconnect')
      }
      retry = verdict ?? info.retryable
    }
    if (retry) return this.#scheduleRetry(attempt)
    this.#cancel(RETRY)
    this.#unwatchEnvironment()
    this.#update({ status: 'failed' })
  }

  #scheduleRetry(attempt: number): void {
    this.#cancel(RETRY)
    if (!this.#env.isOnline()) return this.#update({ status: 'offline', attempt })
    // A hidden page spends no retries; becoming visible reconnects at once.
    if (!this.#env.isVisible()) return this.#update({ status: 'reconnecting', attempt })
    const delay = backoffDelay(attempt, this.#reconnect!, this.#env.random)
    this.#after(RETRY, delay, () => this.#connect())
    this.#update({ status: 'reconnecting', attempt, nextRetryAt: Math.round(this.#env.now() + delay) })
  }

  /** Closed on the user's behalf (handshake done, timed out, or no open socket). */
  #closed(info: CloseInfo): void {
    this.#teardown(info.code, info.reason)
    const wasOpen = this.#state.status !== 'closed'
    this.#update({ status: 'closed', lastClose: info })
    if (wasOpen) this.#emitter.emit('close', info)
  }

  /** Offline or page hidden: drop the socket at once; the environment's next event brings it back. */
  #pause(status: 'offline' | 'idle', info: CloseInfo): void {
    this.#teardown(info.code, info.reason)
    this.#update({ status, lastClose: info })
    this.#emitter.emit('close', info)
  }

  /** Ends the socket in hand, its heartbeat and every timer: one path for every way a socket ends. */
  #teardown(code = 1000, reason = ''): void {
    this.#stop()
    if (this.#socket) discard(this.#socket, code, reason)
    this.#socket = null
  }

  /** Clears every timer and stops the heartbeat (the socket stays in hand). */
  #stop(): void {
    for (const handle of this.#timers) this.#env.clearTimeout(handle)
    this.#timers = []
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

  // ── outbox ───────────────────────────────────────────────────────────────────

  #enqueue(encoded: WebSocketData, options: SendOptions): SendResult {
    const { accepted, overflowed, expired } = this.#outbox.push(encoded, this.#env.now(), options.ttl)
    this.#update({ queued: this.#outbox.size })
    if (expired.length > 0) this.#dropped(expired.length, 'ttl')
    if (overflowed.length > 0) this.#dropped(overflowed.length, 'overflow')
    return accepted ? 'queued' : 'dropped'
  }

  /** Writes queued messages in order while the socket is open and not congested. */
  #flush(): void {
    const socket = this.#socket
    if (socket?.readyState !== 1) return
    const expired = this.#outbox.expire(this.#env.now()).length
    if (expired > 0) this.#dropped(expired, 'ttl')
    let wrote = 0
    while (this.#outbox.size > 0 && this.#socket === socket) {
      if (socket.bufferedAmount > this.#queue.highWaterMark) {
        this.#scheduleDrain()
        break
      }
      this.#write(this.#outbox.shift()!.data)
      wrote++
    }
    if (wrote > 0 || expired > 0) {
      this.#sentCount += wrote
      this.#update({ queued: this.#outbox.size })
    }
  }

  #scheduleDrain(): void {
    if (this.#timers[DRAIN] != null) return
    this.#after(DRAIN, DRAIN_POLL_MS, () => {
      const health = this.#heartbeat?.check()
      if (health === 'dead') return this.#timedOut('heartbeat')
      if (health === 'suspect' || this.#heartbeat?.awaitingProof) return this.#scheduleDrain()
      this.#flush()
    })
  }

  #dropped(count: number, reason: 'overflow' | 'ttl'): void {
    this.#update({ dropped: this.#state.dropped + count, queued: this.#outbox.size })
    const what = reason === 'ttl' ? 'expired (queue ttl)' : `did not fit the send queue (overflow: ${this.#queue.overflow})`
    this.#report('dropped', `${count} message(s) for ${this.url} ${what} and were dropped.`)
  }

  #write(data: WebSocketData): void {
    const socket = this.#socket
    if (!socket) return
    try {
      socket.send(data)
    } catch (error) {
      return this.#report('socket', `send failed on ${this.url}: ${(error as Error).message}`, error)
    }
    if (this.#emitter.has('frameOut')) this.#emitter.emit('frameOut', { data })
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
        else if (status === 'open' && this.#heartbeat) {
          if (this.#heartbeat.check() === 'dead') this.#timedOut('heartbeat')
          else this.#heartbeat.probe()
        }
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
          this.#connect()
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
    this.#state = { ...this.#state, ...patch, received: this.#receivedCount, sent: this.#sentCount }
    this.#countersDirty = false
    this.#emitter.emit('state', this.#state)
  }

  /**
   * `received`/`sent` change per frame; publishing a new snapshot per frame would cost a
   * firehose dearly, so counter-only changes are folded into one state event per microtask.
   */
  #countersChanged(): void {
    if (this.#countersDirty) return
    this.#countersDirty = true
    queueMicrotask(() => this.#countersDirty && this.#update({}))
  }

  #report(kind: RealtimeErrorInfo['kind'], message: string, cause?: unknown): void {
    // Messages name the URL, which may carry `?token=`; they reach logs, the store and devtools.
    const error: RealtimeErrorInfo = { kind, message: redactSecrets(message), cause: redactError(cause) }
    this.#update({ error })
    this.#emitter.emit('error', error)
  }

  #callbackFailed(error: unknown, where: string): void {
    const message = `vue-realtime: a '${where}' callback threw: ${(error as Error)?.message ?? String(error)}`
    // Never recurse into the error listener that just threw.
    if (where === 'error') console.error(message, error)
    else this.#report('callback', message, error)
  }
}
