import { backoffDelay, resolveReconnect, type ResolvedReconnectOptions } from './backoff'
import { closeCodeInfo, isSendableCloseCode } from './closeCodes'
import { Emitter } from './emitter'
import { resolveEnvironment } from './environment'
import { Heartbeat, resolveHeartbeat } from './heartbeat'
import { Outbox, resolveQueue, type OutboxEntry, type ResolvedQueueOptions } from './outbox'
import { jsonSerializer } from './serializer'
import { connectionKey, normalizeUrl } from './url'
import type {
  CloseInfo,
  ConnectionEvents,
  ConnectionOptions,
  ConnectionState,
  ConnectionStatus,
  EnvironmentEvent,
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

const noop = () => {}

function syntheticClose(code: number, reason: string): CloseInfo {
  return { ...closeCodeInfo(code), reason, wasClean: false }
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

  private readonly env: RealtimeEnvironment
  private readonly reconnectOptions: ResolvedReconnectOptions | null
  private readonly queueOptions: ResolvedQueueOptions
  private readonly serializer: Serializer<In, Out>
  private readonly emitter: Emitter<ConnectionEvents<In>>
  private readonly outbox: Outbox
  private readonly heartbeat: Heartbeat | null
  private readonly connectTimeout: number

  private socket: WebSocketLike | null = null
  private snapshot: ConnectionState
  private retryTimer: TimerHandle | null = null
  private connectTimer: TimerHandle | null = null
  private uptimeTimer: TimerHandle | null = null
  private closeTimer: TimerHandle | null = null
  private drainTimer: TimerHandle | null = null
  private stopEnvironment: (() => void) | null = null
  /** When the link was lost (for `maxElapsed`); null while stable. */
  private lostAt: number | null = null
  /** Closed by pagehide; reopened by a persisted pageshow. */
  private suspended = false
  private countersDirty = false
  private receivedCount = 0
  private sentCount = 0

  constructor(url: string | URL, options: ConnectionOptions<In, Out> = {}) {
    this.url = normalizeUrl(url)
    this.protocols = options.protocols
    this.key = connectionKey(this.url, options.protocols)
    this.options = options
    this.env = resolveEnvironment({ ...options.environment, ...(options.WebSocket ? { WebSocket: options.WebSocket } : {}) })
    this.reconnectOptions = resolveReconnect(options.reconnect)
    this.queueOptions = resolveQueue(options.queue)
    this.serializer = options.serializer ?? (jsonSerializer as Serializer<In, Out>)
    this.connectTimeout = options.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT
    this.emitter = new Emitter((error, event) => this.reportCallbackError(error, String(event)))
    this.outbox = new Outbox(this.queueOptions)
    const heartbeatOptions = resolveHeartbeat(options.heartbeat)
    this.heartbeat = heartbeatOptions
      ? new Heartbeat(heartbeatOptions, this.env, {
          ping: (data) => this.write(data),
          dead: () => this.lose(syntheticClose(ABNORMAL, 'heartbeat timeout'), 'heartbeat-timeout'),
          latency: (ms) => this.update({ latency: ms }),
        })
      : null
    this.snapshot = {
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
    }
  }

  /** The current state. A new object after every change, so it can be compared by identity. */
  get state(): Readonly<ConnectionState> {
    return this.snapshot
  }

  get status(): ConnectionStatus {
    return this.snapshot.status
  }

  /** Subscribes to an event; returns the remover. */
  on<K extends keyof ConnectionEvents<In>>(event: K, listener: (payload: ConnectionEvents<In>[K]) => void): () => void {
    return this.emitter.on(event, listener)
  }

  /** Opens the connection (no-op while connecting or open). Reopens after `close()` or `failed`. */
  open(): void {
    const { status } = this.snapshot
    if (status === 'connecting' || status === 'open') return
    this.suspended = false
    this.watchEnvironment()
    if (!this.env.isOnline()) {
      this.clearRetry()
      this.update({ status: 'offline', readyState: 3, nextRetryAt: null })
      return
    }
    if (status === 'closed' || status === 'failed' || status === 'idle') this.resetAttempts()
    this.connect()
  }

  /**
   * Closes the connection on the user's behalf: status `closed`, never reconnects by itself.
   * Queued messages are kept for a later `open()`.
   */
  close(code = 1000, reason = ''): void {
    this.clearRetry()
    this.stopEnvironment?.()
    this.stopEnvironment = null
    this.suspended = false
    const socket = this.socket
    if (!socket || socket.readyState !== 1) {
      if (socket) this.discard(socket, code, reason)
      this.finishClose({ ...closeCodeInfo(code), reason, wasClean: true })
      return
    }
    this.heartbeat?.stop()
    this.clearTimer('uptimeTimer')
    this.clearTimer('drainTimer')
    this.update({ status: 'closing', readyState: 2 })
    socket.onclose = (event) => {
      if (this.socket !== socket) return
      this.finishClose({ ...closeCodeInfo(event.code), reason: event.reason, wasClean: event.wasClean })
    }
    try {
      socket.close(isSendableCloseCode(code) ? code : 1000, reason)
    } catch (error) {
      this.reportError('socket', `close(${code}) failed: ${(error as Error).message}`, error)
    }
    // A dead link never completes the handshake; don't let `closing` hang on it.
    this.closeTimer = this.env.setTimeout(() => {
      this.closeTimer = null
      this.finishClose({ ...closeCodeInfo(code), reason, wasClean: false })
    }, CLOSE_GRACE_MS)
  }

  /** Retries now: cancels a scheduled retry, or replaces the socket in hand. Works from `failed` and `closed` too. */
  reconnect(): void {
    this.suspended = false
    this.watchEnvironment()
    const { status } = this.snapshot
    if (status === 'closed' || status === 'failed' || status === 'idle') this.resetAttempts()
    this.connect()
  }

  /**
   * Sends a message: objects are JSON-encoded (or go through `serializer`), strings and
   * binary pass through. While the socket is not open the message is queued (bounded) and
   * flushed in order on open; `volatile` messages are dropped instead.
   * @throws TypeError when the message cannot be encoded (nothing is queued).
   * @throws OutboxFullError when the queue is full and `queue.overflow` is `'error'`.
   */
  send(data: Out | WebSocketData, options: SendOptions = {}): SendResult {
    const encoded = this.serializer.encode(data as Out)
    const socket = this.socket
    if (socket && socket.readyState === 1 && this.snapshot.status === 'open') {
      const health = this.heartbeat?.check() ?? 'alive'
      if (health === 'dead') {
        this.lose(syntheticClose(ABNORMAL, 'heartbeat timeout'), 'heartbeat-timeout')
      } else if (
        health === 'alive' &&
        this.outbox.size === 0 &&
        socket.bufferedAmount <= this.queueOptions.highWaterMark
      ) {
        this.write(encoded)
        this.countSent()
        return 'sent'
      } else if (options.volatile) {
        return 'dropped'
      } else {
        // Suspect link or congestion: hold the message until the probe answers or the buffer drains.
        const result = this.enqueue(encoded, options)
        this.scheduleDrain()
        return result
      }
    }
    if (options.volatile) return 'dropped'
    return this.enqueue(encoded, options)
  }

  /** Closes for good and removes every listener and environment subscription. */
  dispose(): void {
    this.close()
    this.clearTimer('closeTimer')
    if (this.socket) this.discard(this.socket, 1000, '')
    this.socket = null
    this.outbox.clear()
    this.emitter.clear()
  }

  // ── socket life ──────────────────────────────────────────────────────────────

  private connect(): void {
    this.clearRetry()
    this.clearTimer('closeTimer')
    if (this.socket) this.discard(this.socket, 1000, 'replaced')
    this.socket = null
    this.heartbeat?.stop()
    const WebSocketImpl = this.env.WebSocket
    if (!WebSocketImpl) {
      const message =
        'vue-realtime: no WebSocket implementation. In Node pass one: `{ WebSocket }` from the "ws" package ' +
        '(or upgrade to Node 22+, which has a global WebSocket).'
      this.update({ status: 'failed', readyState: 3 })
      this.reportError('socket', message)
      throw new Error(message)
    }
    let socket: WebSocketLike
    try {
      socket = new WebSocketImpl(this.url, this.protocols)
    } catch (error) {
      this.reportError('socket', `new WebSocket(${this.url}) threw: ${(error as Error).message}`, error)
      this.afterLoss(syntheticClose(ABNORMAL, 'constructor threw'))
      return
    }
    this.socket = socket
    socket.binaryType = this.options.binaryType ?? 'arraybuffer'
    socket.onopen = () => {
      if (this.socket === socket) this.opened(socket)
    }
    socket.onmessage = (event) => {
      if (this.socket === socket) this.received(event.data)
    }
    socket.onerror = (event) => {
      if (this.socket !== socket) return
      const detail = (event as { message?: string; error?: Error } | null)?.message ?? (event as { error?: Error } | null)?.error?.message
      this.reportError('socket', `WebSocket error on ${this.url}${detail ? `: ${detail}` : ''}`, event)
    }
    socket.onclose = (event) => {
      if (this.socket !== socket) return
      this.lose({ ...closeCodeInfo(event.code), reason: event.reason, wasClean: event.wasClean }, null)
    }
    this.update({ status: 'connecting', readyState: 0, nextRetryAt: null })
    this.connectTimer = this.env.setTimeout(() => {
      this.connectTimer = null
      if (this.socket === socket && socket.readyState === 0) {
        this.lose(syntheticClose(ABNORMAL, 'connect timeout'), 'connect-timeout')
      }
    }, this.connectTimeout)
  }

  private opened(socket: WebSocketLike): void {
    this.clearTimer('connectTimer')
    this.update({ status: 'open', readyState: 1, nextRetryAt: null, error: null })
    this.heartbeat?.start()
    // The retry count resets only after the link proved stable, so a server that accepts
    // and drops at once still sees the backoff grow.
    const minUptime = this.reconnectOptions?.minUptime ?? 0
    this.uptimeTimer = this.env.setTimeout(() => {
      this.uptimeTimer = null
      this.lostAt = null
      if (this.snapshot.attempt !== 0) this.update({ attempt: 0 })
    }, minUptime)
    this.emitter.emit('open', { protocol: socket.protocol })
    this.flush()
  }

  private received(raw: unknown): void {
    if (this.emitter.has('frameIn')) this.emitter.emit('frameIn', { data: raw })
    if (this.heartbeat?.inbound(raw)) return
    let message: In
    try {
      message = this.serializer.decode(raw)
    } catch (error) {
      this.reportError('decode', `Could not decode a frame from ${this.url}: ${(error as Error).message}`, error)
      return
    }
    this.receivedCount++
    this.markCountersDirty()
    this.emitter.emit('message', message)
  }

  /**
   * The socket in hand is gone (closed by the peer, errored, timed out or declared dead).
   * Detaches it at once: never waits for a closing handshake on a dead link.
   */
  private lose(info: CloseInfo, kind: RealtimeErrorInfo['kind'] | null): void {
    const socket = this.socket
    if (socket) this.discard(socket, 1000, info.reason)
    this.socket = null
    if (kind) this.reportError(kind, `${info.reason} on ${this.url}`)
    this.afterLoss(info)
  }

  private afterLoss(info: CloseInfo): void {
    this.heartbeat?.stop()
    this.clearTimer('connectTimer')
    this.clearTimer('uptimeTimer')
    this.clearTimer('drainTimer')
    this.update({ lastClose: info, readyState: 3 })
    this.emitter.emit('close', info)
    const now = this.env.now()
    if (this.lostAt === null) this.lostAt = now
    const attempt = this.snapshot.attempt + 1
    if (!this.shouldRetry(info, attempt, now - this.lostAt)) {
      this.clearRetry()
      this.stopEnvironment?.()
      this.stopEnvironment = null
      this.update({ status: 'failed', nextRetryAt: null })
      return
    }
    this.scheduleRetry(attempt)
  }

  private shouldRetry(info: CloseInfo, attempt: number, elapsed: number): boolean {
    const options = this.reconnectOptions
    if (!options) return false
    if (attempt > options.retries || elapsed > options.maxElapsed) return false
    let verdict: boolean | undefined
    try {
      verdict = options.shouldReconnect?.(info, attempt)
    } catch (error) {
      this.reportCallbackError(error, 'shouldReconnect')
    }
    return verdict ?? info.retryable
  }

  private scheduleRetry(attempt: number): void {
    this.clearRetry()
    if (!this.env.isOnline()) {
      this.update({ status: 'offline', attempt, nextRetryAt: null })
      return
    }
    if (!this.env.isVisible()) {
      // A hidden page spends no retries; becoming visible reconnects at once.
      this.update({ status: 'reconnecting', attempt, nextRetryAt: null })
      return
    }
    const delay = backoffDelay(attempt, this.reconnectOptions!, this.env.random)
    const at = this.env.now() + delay
    this.retryTimer = this.env.setTimeout(() => {
      this.retryTimer = null
      this.connect()
    }, delay)
    this.update({ status: 'reconnecting', attempt, nextRetryAt: Math.round(at) })
  }

  private finishClose(info: CloseInfo): void {
    this.clearTimer('closeTimer')
    this.clearTimer('connectTimer')
    this.clearTimer('uptimeTimer')
    this.clearTimer('drainTimer')
    this.heartbeat?.stop()
    if (this.socket) this.discard(this.socket, info.code, info.reason)
    this.socket = null
    const wasOpen = this.snapshot.status !== 'closed'
    this.update({ status: 'closed', readyState: 3, nextRetryAt: null, lastClose: info })
    if (wasOpen) this.emitter.emit('close', info)
  }

  /** Detaches a socket and ends it without waiting: `terminate()` where available (ws). */
  private discard(socket: WebSocketLike, code: number, reason: string): void {
    socket.onopen = null
    socket.onmessage = null
    socket.onclose = null
    // Keep an error listener: `ws` throws on an 'error' event nobody listens to.
    socket.onerror = noop
    try {
      if (typeof socket.terminate === 'function') socket.terminate()
      else if (socket.readyState < 2) socket.close(isSendableCloseCode(code) ? code : 1000, reason.slice(0, 120))
    } catch {
      // Closing a socket that is already gone is not an error worth reporting.
    }
  }

  // ── outbox ───────────────────────────────────────────────────────────────────

  private enqueue(encoded: WebSocketData, options: SendOptions): SendResult {
    const dropped = this.outbox.push(encoded, this.env.now(), options.ttl)
    const queuedSelf = !dropped.some((entry) => entry.data === encoded)
    this.update({ queued: this.outbox.size })
    if (dropped.length > 0) this.countDropped(dropped, 'overflow')
    return queuedSelf ? 'queued' : 'dropped'
  }

  /** Writes queued messages in order while the socket is open and not congested. */
  private flush(): void {
    const socket = this.socket
    if (!socket || socket.readyState !== 1) return
    const expired = this.outbox.expire(this.env.now())
    if (expired.length > 0) this.countDropped(expired, 'ttl')
    let wrote = 0
    while (this.outbox.size > 0) {
      if (socket.bufferedAmount > this.queueOptions.highWaterMark) {
        this.scheduleDrain()
        break
      }
      const entry = this.outbox.shift()!
      this.write(entry.data)
      wrote++
      if (this.socket !== socket) break
    }
    if (wrote > 0 || expired.length > 0) {
      this.sentCount += wrote
      this.update({ queued: this.outbox.size })
    }
  }

  private scheduleDrain(): void {
    if (this.drainTimer !== null) return
    this.drainTimer = this.env.setTimeout(() => {
      this.drainTimer = null
      if (this.heartbeat) {
        const health = this.heartbeat.check()
        if (health === 'dead') return this.lose(syntheticClose(ABNORMAL, 'heartbeat timeout'), 'heartbeat-timeout')
        if (health === 'suspect' || this.heartbeat.awaitingProof) return this.scheduleDrain()
      }
      this.flush()
    }, DRAIN_POLL_MS)
  }

  private countDropped(entries: OutboxEntry[], reason: 'overflow' | 'ttl'): void {
    this.update({ dropped: this.snapshot.dropped + entries.length, queued: this.outbox.size })
    const what = reason === 'ttl' ? 'expired (queue ttl)' : `did not fit the send queue (overflow: ${this.queueOptions.overflow})`
    this.reportError('dropped', `${entries.length} message(s) ${what} for ${this.url} and were dropped.`)
  }

  private write(data: WebSocketData): void {
    const socket = this.socket
    if (!socket) return
    try {
      socket.send(data)
    } catch (error) {
      this.reportError('socket', `send failed on ${this.url}: ${(error as Error).message}`, error)
      return
    }
    if (this.emitter.has('frameOut')) this.emitter.emit('frameOut', { data })
  }

  private countSent(): void {
    this.sentCount++
    this.markCountersDirty()
  }

  // ── environment ──────────────────────────────────────────────────────────────

  private watchEnvironment(): void {
    if (this.stopEnvironment) return
    this.stopEnvironment = this.env.subscribe((event) => this.onEnvironment(event))
  }

  private onEnvironment(event: EnvironmentEvent): void {
    const { status } = this.snapshot
    switch (event.type) {
      case 'offline':
        if (status === 'connecting' || status === 'open' || status === 'reconnecting') {
          this.clearRetry()
          if (this.socket) {
            this.discard(this.socket, 1000, 'offline')
            this.socket = null
          }
          this.heartbeat?.stop()
          this.clearTimer('connectTimer')
          this.clearTimer('uptimeTimer')
          this.clearTimer('drainTimer')
          const info = syntheticClose(ABNORMAL, 'offline')
          this.update({ status: 'offline', readyState: 3, nextRetryAt: null, lastClose: info })
          this.emitter.emit('close', info)
        }
        return
      case 'online':
        if (status === 'offline') this.connect()
        return
      case 'hidden':
        if (status === 'reconnecting' && this.retryTimer !== null) {
          this.clearRetry()
          this.update({ nextRetryAt: null })
        }
        return
      case 'visible':
        if (status === 'reconnecting') this.connect()
        else if (status === 'open' && this.heartbeat) {
          if (this.heartbeat.check() === 'dead') this.lose(syntheticClose(ABNORMAL, 'heartbeat timeout'), 'heartbeat-timeout')
          else this.heartbeat.probe()
        }
        return
      case 'pagehide':
        if (this.options.closeOnPageHide === false) return
        if (status === 'open' || status === 'connecting' || status === 'reconnecting') {
          this.clearRetry()
          if (this.socket) {
            this.discard(this.socket, 1001, 'page hidden')
            this.socket = null
          }
          this.heartbeat?.stop()
          this.clearTimer('connectTimer')
          this.clearTimer('uptimeTimer')
          this.clearTimer('drainTimer')
          this.suspended = true
          const info = { ...closeCodeInfo(1001), reason: 'page hidden', wasClean: true }
          this.update({ status: 'idle', readyState: 3, nextRetryAt: null, lastClose: info })
          this.emitter.emit('close', info)
        }
        return
      case 'pageshow':
        if (this.suspended && event.persisted) {
          this.suspended = false
          this.connect()
        }
        return
    }
  }

  // ── state ────────────────────────────────────────────────────────────────────

  private update(patch: Partial<ConnectionState>): void {
    this.snapshot = { ...this.snapshot, ...patch, received: this.receivedCount, sent: this.sentCount }
    this.countersDirty = false
    this.emitter.emit('state', this.snapshot)
  }

  /**
   * `received`/`sent` change per frame; publishing a new snapshot per frame would cost a
   * firehose dearly, so counter-only changes are folded into one state event per microtask.
   */
  private markCountersDirty(): void {
    if (this.countersDirty) return
    this.countersDirty = true
    queueMicrotask(() => {
      if (this.countersDirty) this.update({})
    })
  }

  private reportError(kind: RealtimeErrorInfo['kind'], message: string, cause?: unknown): void {
    const error: RealtimeErrorInfo = { kind, message, cause }
    this.update({ error })
    this.emitter.emit('error', error)
  }

  private reportCallbackError(error: unknown, where: string): void {
    const message = `vue-realtime: a '${where}' callback threw: ${(error as Error)?.message ?? String(error)}`
    if (where === 'error') {
      // Never recurse into the listener that just threw.
      console.error(message, error)
      return
    }
    this.reportError('callback', message, error)
  }

  private resetAttempts(): void {
    this.lostAt = null
    if (this.snapshot.attempt !== 0) this.update({ attempt: 0 })
  }

  private clearRetry(): void {
    if (this.retryTimer !== null) this.env.clearTimeout(this.retryTimer)
    this.retryTimer = null
  }

  private clearTimer(name: 'connectTimer' | 'uptimeTimer' | 'closeTimer' | 'drainTimer'): void {
    const handle = this[name]
    if (handle !== null) this.env.clearTimeout(handle)
    this[name] = null
  }
}
