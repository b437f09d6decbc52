/**
 * `useWebSocket`: a consumer of one shared, reference-counted connection of the app's manager.
 * The connection (socket, heartbeat, reconnect, outbox) lives in the core; this file mirrors its
 * state into refs and keeps a bounded, batched list of inbound messages.
 */
import {
  getCurrentInstance,
  getCurrentScope,
  onMounted,
  onScopeDispose,
  shallowRef,
  toValue,
  triggerRef,
  watch,
  type MaybeRefOrGetter,
  type ShallowRef,
} from 'vue'
import type { Connection, ConnectionManager } from '../core'
import { IDLE_STATE } from '../core/connection'
import { resolveEnvironment } from '../core/environment'
import type {
  CloseInfo,
  ConnectionEvents,
  ConnectionOptions,
  ConnectionState,
  ConnectionStatus,
  ReadyState,
  RealtimeEnvironment,
  RealtimeErrorInfo,
  TabRole,
  SendOptions,
  SendResult,
  TimerHandle,
  WebSocketData,
} from '../core/types'
import { resolveManager } from './context'
import { createMessageBuffer, type FlushMode } from './messageBuffer'
import { reportError, warn } from './dev'

/** Options of `useWebSocket`: the connection's options plus this consumer's own. */
export interface UseWebSocketOptions<In = unknown, Out = unknown> extends ConnectionOptions<In, Out> {
  /** Connect as soon as the URL is known; with `false`, nothing is acquired until `open()`. @default true */
  immediate?: boolean
  /** Keep at most this many messages in `messages`; the oldest go first. @default 1000 */
  maxMessages?: number
  /**
   * When `messages` and `data` update. `'frame'`: a burst becomes one update per animation
   * frame, so a firehose renders once per paint (a timer takes over in hidden tabs, a microtask
   * outside browsers). `'microtask'`: after every message event. `'sync'`: on every message.
   * `onMessage` runs for every message, synchronously, in every mode.
   * @default 'frame'
   */
  flush?: FlushMode
  /** Keep only the messages for which this returns `true` (in `messages`, `data` and `onMessage`). @default undefined (keep all) */
  filter?: (message: In) => boolean
  /** Called when the connection opens (and on every reopen). @default undefined */
  onOpen?: (event: { protocol: string }) => void
  /** Called once for every inbound message, synchronously and never coalesced. @default undefined */
  onMessage?: (message: In) => void
  /** Called when the socket closes, with the close explained. @default undefined */
  onClose?: (info: CloseInfo) => void
  /** Called on every connection error (socket, timeouts, dropped messages...). @default undefined */
  onError?: (error: RealtimeErrorInfo) => void
  /** The manager to acquire from. @default the app's (`createRealtime`), else the client-side default manager */
  manager?: ConnectionManager
}

/** What `useWebSocket` returns. Every ref is read-only; act through the functions. */
export interface UseWebSocketReturn<In = unknown, Out = unknown> {
  /** 0..3, the WebSocket constants of the socket in hand (3 while waiting to retry or without a connection). */
  readyState: Readonly<ShallowRef<ReadyState>>
  /** Where the connection is in its life; `idle` without a connection. */
  status: Readonly<ShallowRef<ConnectionStatus>>
  /**
   * Decoded inbound messages, newest last, at most `maxMessages`. The array is updated in place
   * (one reactive trigger per batch, see `flush`, not one copy per message): copy it to keep a snapshot.
   */
  messages: Readonly<ShallowRef<readonly In[]>>
  /** The last message (watch `messages` or use `onMessage` to see every one). */
  data: Readonly<ShallowRef<In | undefined>>
  /** The last error of the connection or of a user callback. */
  error: Readonly<ShallowRef<RealtimeErrorInfo | null>>
  /**
   * The close that ended the last open link, explained (`code`, `reason`, `wasClean`, `name`,
   * `description`, `retryable`): a planned 1012 stays visible while refused retries go on (they
   * show in `error`).
   */
  lastClose: Readonly<ShallowRef<CloseInfo | null>>
  /** Retries made since the link was last stable. */
  attempt: Readonly<ShallowRef<number>>
  /** When the next retry fires (epoch ms), or null. */
  nextRetryAt: Readonly<ShallowRef<number | null>>
  /**
   * Whole seconds until the next retry (rounded up), ticking once a second while `reconnecting`
   * with a retry scheduled; null otherwise (and on the server). For "Reconnecting in 3 s…".
   */
  retryIn: Readonly<ShallowRef<number | null>>
  /** Messages waiting in the outbox. */
  queued: Readonly<ShallowRef<number>>
  /** Messages dropped (overflow, ttl, volatile messages not written, queued ones discarded when the connection was disposed). */
  dropped: Readonly<ShallowRef<number>>
  /** Last heartbeat round trip, ms, or null. */
  latency: Readonly<ShallowRef<number | null>>
  /**
   * Which tab holds the socket, with `shareAcrossTabs`: `'leader'` (this one), `'follower'`
   * (another tab or a shared worker; this tab's refs mirror it), or `'solo'` (not shared).
   */
  role: Readonly<ShallowRef<TabRole>>
  /** Sends another tab accepted for the shared socket and lost before writing them (0 when not shared). */
  uncertain: Readonly<ShallowRef<number>>
  /** The shared connection in hand (undefined without a URL, before `open()` with `immediate: false`, and on the server). */
  connection: Readonly<ShallowRef<Connection<In, Out> | undefined>>
  /**
   * Send a message: objects are JSON-encoded, strings and binary pass through. Returns `'queued'`
   * while not open, `'dropped'` without a connection. Throws a `TypeError` for unserialisable data.
   */
  send: (data: Out | WebSocketData, options?: SendOptions) => SendResult
  /** Connect (acquire the URL's connection, or reopen it after `close()`). */
  open: () => void
  /** Close the shared connection for every consumer of it; it stays closed until `open()`. */
  close: (code?: number, reason?: string) => void
  /** Retry now (cancels a scheduled retry; also from `failed` or `closed`). */
  reconnect: () => void
  /** Empty `messages`, with the messages waiting for the next flush; `data` stays the newest message received. */
  clear: () => void
}

/** The connection's state fields mirrored into refs of the same names. */
const MIRRORED = ['readyState', 'status', 'attempt', 'nextRetryAt', 'lastClose', 'latency', 'queued', 'dropped', 'role', 'uncertain'] as const
type MirroredRefs = { [K in (typeof MIRRORED)[number]]: ShallowRef<ConnectionState[K]> }

/**
 * Reactive access to a shared WebSocket connection. Every call with the same URL (and
 * protocols) shares one socket; it is released when the calling scope is disposed.
 *
 * @param url the WebSocket URL; `undefined` means "do not connect". A changed URL releases the
 *   old connection and acquires the new one.
 */
export function useWebSocket<In = unknown, Out = unknown>(
  url: MaybeRefOrGetter<string | URL | undefined>,
  options: UseWebSocketOptions<In, Out> = {},
): UseWebSocketReturn<In, Out> {
  // What is left after the consumer's own options are the connection's options.
  const {
    immediate = true,
    maxMessages = 1000,
    flush,
    filter,
    onOpen,
    onMessage,
    onClose,
    onError,
    manager: explicitManager,
    ...connectionOptions
  } = options
  const max = Math.max(0, Math.floor(maxMessages))

  const refs = Object.fromEntries(MIRRORED.map((key) => [key, shallowRef(IDLE_STATE[key])])) as MirroredRefs
  const error = shallowRef<RealtimeErrorInfo | null>(null)
  const connection = shallowRef<Connection<In, Out> | undefined>()

  const data = shallowRef<In | undefined>()
  const { messages, push, clear } = createMessageBuffer<In>(max, {
    flush,
    onFlush(last) {
      // An equal message still triggers: every message counts, none is coalesced.
      if (Object.is(data.value, last)) triggerRef(data)
      else data.value = last
    },
  })

  const callbackFailed = (name: string, cause: unknown): void => {
    const message = `${name} threw: ${cause instanceof Error ? cause.message : String(cause)}`
    error.value = { kind: 'callback', message, cause }
    if (process.env.NODE_ENV !== 'production') reportError(`useWebSocket: ${message}. The connection is unaffected; fix the callback.`, cause)
  }

  /** Calls a user callback; a throwing one is reported, never breaks the connection. */
  const call = <T>(name: string, fn: ((arg: T) => unknown) | undefined, arg: T): unknown => {
    try {
      return fn?.(arg)
    } catch (cause) {
      callbackFailed(name, cause)
    }
  }

  /** The listener of one connection's messages: the hot path of a firehose, so it calls nothing it need not. */
  const receiveFrom =
    (from: Connection<In, Out>) =>
    (message: In): void => {
      if (attached !== from) return
      if (filter) {
        try {
          if (!filter(message)) return
        } catch (cause) {
          return callbackFailed('filter', cause)
        }
      }
      push(message)
      if (onMessage) {
        try {
          onMessage(message)
        } catch (cause) {
          callbackFailed('onMessage', cause)
        }
      }
    }

  // While hydrating server-rendered HTML, the refs keep showing what the server rendered
  // (`idle`) until the component is mounted: the connection is acquired at once (so sends in
  // setup queue), but the first client render matches the server's. A component being
  // hydrated already has its element during setup; a freshly mounted one does not.
  // `retryIn`: one countdown timer, owned here, on the connection's own clock and timers (so
  // an injected environment and fake timers apply). Armed only while a retry is scheduled.
  const retryIn = shallowRef<number | null>(null)
  let clock: RealtimeEnvironment | null = null
  let countdownTimer: TimerHandle = null
  let countingTo: number | null = null
  const countdown = (to: number | null): void => {
    clock?.clearTimeout(countdownTimer)
    countdownTimer = null
    countingTo = to
    if (to === null || !clock) {
      retryIn.value = null
      return
    }
    const left = Math.max(0, to - clock.now())
    retryIn.value = Math.ceil(left / 1000)
    // Wake when the displayed second changes.
    if (left > 0) countdownTimer = clock.setTimeout(() => countdown(to), left % 1000 || 1000)
  }

  let hydrating = !!getCurrentInstance()?.vnode.el
  const mirror = (state: Readonly<ConnectionState>): void => {
    if (hydrating) return
    for (const key of MIRRORED) refs[key].value = state[key] as never
    const to = state.status === 'reconnecting' ? state.nextRetryAt : null
    if (to !== countingTo) countdown(to)
  }

  const manager = resolveManager(explicitManager)
  let active = immediate
  let disposed = false
  let target: string | undefined
  let removers: Array<() => void> = []
  /** `connection.value` without a reactive read: the listeners check it on every event (every inbound message). */
  let attached: Connection<In, Out> | undefined

  const detach = (): void => {
    const current = connection.value
    if (!current) return
    for (const remove of removers) remove()
    removers = []
    connection.value = attached = undefined
    mirror(IDLE_STATE)
    countdown(null)
    clock = null
    manager?.release(current)
  }

  const attach = (): void => {
    if (!manager || disposed || target === undefined || connection.value) return
    let current: Connection<In, Out>
    try {
      current = manager.acquire<In, Out>(target, connectionOptions)
    } catch (cause) {
      const message = cause instanceof Error ? cause.message : String(cause)
      const info: RealtimeErrorInfo = { kind: 'invalid-url', message, cause }
      error.value = info
      refs.status.value = 'failed'
      if (process.env.NODE_ENV !== 'production') reportError(`useWebSocket: ${message}`)
      call('onError', onError, info)
      return
    }
    connection.value = attached = current
    clock = resolveEnvironment(current.options.environment)
    // Every listener checks that its connection is still the one in hand: an event emitted
    // while a swap is under way changes nothing.
    const on = <K extends keyof ConnectionEvents<In>>(event: K, listener: (payload: ConnectionEvents<In>[K]) => unknown) =>
      current.on(event, (payload) => attached === current && listener(payload))
    removers = [
      on('state', mirror),
      current.on('message', receiveFrom(current)),
      on('open', (event) => call('onOpen', onOpen, event)),
      on('close', (info) => call('onClose', onClose, info)),
      on('error', (info) => call('onError', onError, (error.value = info))),
    ]
    mirror(current.state)
    if (current.state.error) error.value = current.state.error
  }

  if (manager) {
    watch(
      () => {
        const value = toValue(url)
        return value == null ? undefined : String(value)
      },
      (next) => {
        detach()
        target = next
        // Clears a `failed` left by an invalid previous URL.
        mirror(IDLE_STATE)
        if (active) attach()
      },
      { immediate: true },
    )
    if (hydrating) {
      onMounted(() => {
        hydrating = false
        mirror(connection.value?.state ?? IDLE_STATE)
      })
    }
    if (getCurrentScope()) {
      onScopeDispose(() => {
        disposed = true
        detach()
      })
    }
  }

  return {
    ...refs,
    retryIn,
    messages,
    data,
    error,
    connection,
    send(payload, sendOptions) {
      const current = connection.value
      if (current) return current.send(payload, sendOptions)
      // On the server (no manager) sends are dropped silently: nothing could ever deliver them.
      if (manager && process.env.NODE_ENV !== 'production') {
        warn(`useWebSocket: send() without a connection${target === undefined ? ' (the url is undefined)' : ''}: the message was dropped.`)
      }
      return 'dropped'
    },
    open() {
      active = true
      if (connection.value) connection.value.open()
      else attach()
    },
    close(code, reason) {
      active = false
      connection.value?.close(code, reason)
    },
    reconnect() {
      active = true
      if (connection.value) connection.value.reconnect()
      else attach()
    },
    clear,
  }
}
