/**
 * `useChannel`: a topic of the vue-realtime protocol (docs/protocol.md) as reactive state.
 * Built on `useWebSocket` (shared connection, reconnect, SSR) and the core `ProtocolClient`
 * (gap-free rejoin, acknowledged publish, requests).
 */
import {
  getCurrentScope,
  onScopeDispose,
  shallowRef,
  toValue,
  watch,
  type MaybeRefOrGetter,
  type ShallowRef,
} from 'vue'
import type { AckFrame, MessageFrame, PresenceFrame, PresenceMember } from '../core/protocol'
import {
  ProtocolClient,
  randomId,
  RealtimeProtocolError,
  type GapInfo,
  type TopicListener,
} from '../core/protocolClient'
import type { ConnectionManager } from '../core'
import type { CloseInfo, ConnectionOptions, ConnectionStatus } from '../core/types'
import { errorMessage } from '../core/errors'
import { channelConnectionOptions, failure } from './channelConnection'
import { reportError } from './dev'
import type { TokenSource } from './token'
import { createMessageBuffer, type FlushMode } from './messageBuffer'
import { useRealtimeUrl } from './plugin'
import { useWebSocket } from './useWebSocket'

/** One message of a topic, as the server stored and numbered it. */
export interface ChannelMessage<T> {
  topic: string
  /** Per-topic sequence number (absent on ephemeral messages). */
  seq?: number
  /** The publisher's message id. */
  id: string | number
  data: T
  /** `clientId` of the publisher, or `'server'`. */
  from: string
  /** The publisher's user, when the server authenticates. */
  user?: unknown
  /** Server time of publication, epoch ms. */
  ts: number
}

/** A publish of this client that has no ack yet (for delivery marks). */
export interface PendingPublish<T> {
  id: string
  /** The topic it was published to (`retry` publishes there, whatever the channel's topic is now). */
  topic: string
  data: T
  /** `pending`: waiting for the link; `sent`: written, waiting for the ack; `failed`: rejected (see `error`). */
  state: 'pending' | 'sent' | 'failed'
  error?: RealtimeProtocolError
}

export interface UseChannelOptions<T> {
  /**
   * Server URL. A changed URL is another connection: the channel joins the topic there afresh
   * (`messages` emptied, then `history` replayed). To refresh a token, use `token`, not the URL.
   * @default the `url` given to `createRealtime`
   */
  url?: MaybeRefOrGetter<string | URL | undefined>
  /**
   * Auth token, sent as the subprotocol `vue-realtime.token.<token>` next to the protocol's
   * own (never in the URL). A ref or getter is read again before every connection attempt, so
   * an expiring token can be refreshed; after a refusal (4401) set the new one and call
   * `reconnect()`. Overrides the `token` of `createRealtime`. Channels sharing one URL share one
   * connection, whose first acquirer's token applies.
   * @default the `token` given to `createRealtime`, else none
   */
  token?: TokenSource
  /**
   * Connection options (heartbeat, reconnect...) for this URL. Its `protocols` are offered after
   * the protocol's own `vue-realtime.v1`, never instead of it.
   * @default {}
   */
  connection?: ConnectionOptions
  /** The manager to use. @default the app's */
  manager?: ConnectionManager
  /** On the first join, replay the last `history` messages. @default 50 */
  history?: number
  /** Keep at most this many messages in `messages`. @default 1000 */
  maxMessages?: number
  /**
   * When `messages` updates: `'frame'` (one update per animation frame; a timer in hidden tabs,
   * a microtask outside browsers), `'microtask'` or `'sync'` (see `useWebSocket`'s `flush`).
   * `onMessage` runs for every message in every mode. @default 'frame'
   */
  flush?: FlushMode
  /**
   * Validates and types an inbound payload: return it (typed) or throw. A zod or valibot
   * schema's `parse` plugs in. Invalid messages are dropped, counted in `invalid` and
   * reported through `error`; they never throw into the app. @default undefined (no check)
   */
  parse?: (value: unknown) => T
  /**
   * How long `publish` waits for the server's ack, ms: across reconnects, and across refusals
   * that say "retry later" (written again after 1 s, 2 s, 4 s, then every 5 s). @default 10_000
   */
  publishTimeout?: number
  /** Called once for every stored message (never coalesced). */
  onMessage?: (message: ChannelMessage<T>) => void
  /** Called for ephemeral messages (typing indicators...): they are not kept in `messages`. */
  onEphemeral?: (message: ChannelMessage<T>) => void
  /**
   * The server could not replay what was missed after a reconnect, or the topic's epoch
   * changed (its numbering restarted): `recovered` is false; reload a snapshot.
   */
  onGap?: (info: GapInfo) => void
}

export interface UseChannelReturn<T> {
  /** Stored messages of the topic, newest last, each exactly once, in sequence order. */
  messages: Readonly<ShallowRef<readonly ChannelMessage<T>[]>>
  /** Publish; resolves on the server's ack (retried across reconnects, deduplicated by id). */
  publish: (data: T, options?: { id?: string; ephemeral?: boolean; timeout?: number }) => Promise<AckFrame>
  /** Publish again a failed pending message, with the same id (never duplicated). */
  retry: (id: string) => Promise<AckFrame> | undefined
  /** Ask the server (`onRequest(method, data)`; `method` defaults to the topic). Rejects on timeout or close. */
  request: <R = unknown>(data?: unknown, options?: { timeout?: number; method?: string }) => Promise<R>
  /** Joined (the server confirmed the subscription on the current socket). */
  subscribed: Readonly<ShallowRef<boolean>>
  /** After the last (re)join: did the replay cover the gap? null before the first join. */
  recovered: Readonly<ShallowRef<boolean | null>>
  /**
   * The last error: server refusals, invalid frames, failed publishes, and a connection that
   * failed for good (a fatal close such as 4401, or retries exhausted; cleared once it opens).
   * A refused subscribe is cleared once a later one joins: the channel asks again on every
   * reconnect, and after a backoff (1 s, doubling to 5 s) when the server said "retry later"
   * (`internal`, `server_full`, `too_many_new_topics`).
   */
  error: Readonly<ShallowRef<Error | null>>
  /** The close that ended the last open link, explained (see `useWebSocket`). */
  lastClose: Readonly<ShallowRef<CloseInfo | null>>
  /** Members subscribed to the topic, with online/offline from their heartbeats. */
  presence: Readonly<ShallowRef<readonly PresenceMember[]>>
  /** This client's publishes still waiting for an ack, oldest first. */
  pending: Readonly<ShallowRef<readonly PendingPublish<T>[]>>
  /** Inbound messages dropped by `parse`. */
  invalid: Readonly<ShallowRef<number>>
  /** The connection's status (see `useWebSocket`). */
  status: Readonly<ShallowRef<ConnectionStatus>>
  /** This client's id on the server (from its welcome), or null. */
  clientId: Readonly<ShallowRef<string | null>>
  /** Retry now, also after the connection failed (e.g. a refused token, once it was refreshed). */
  reconnect: () => void
  /** Empty `messages`. */
  clear: () => void
}

const DEFAULT_HISTORY = 50
const DEFAULT_MAX_MESSAGES = 1000

/**
 * A topic of the vue-realtime protocol: messages that survive reconnects without gaps or
 * duplicates, acknowledged publishes, requests and presence.
 *
 * @example
 * const { messages, publish, presence } = useChannel<{ text: string }>('room:general')
 * await publish({ text: 'hello' })
 */
export function useChannel<T = unknown>(
  topic: MaybeRefOrGetter<string | undefined>,
  options: UseChannelOptions<T> = {},
): UseChannelReturn<T> {
  const max = Math.max(0, Math.floor(options.maxMessages ?? DEFAULT_MAX_MESSAGES))
  const url = options.url ?? useRealtimeUrl()
  const socket = useWebSocket<unknown, unknown>(url, {
    ...channelConnectionOptions(options.connection, options.token),
    maxMessages: 0,
    manager: options.manager,
  })

  const { messages, push, clear } = createMessageBuffer<ChannelMessage<T>>(max, { flush: options.flush })
  const subscribed = shallowRef(false)
  const recovered = shallowRef<boolean | null>(null)
  const error = shallowRef<Error | null>(null)
  const presence = shallowRef<readonly PresenceMember[]>([])
  const pending = shallowRef<readonly PendingPublish<T>[]>([])
  const invalid = shallowRef(0)
  const clientId = shallowRef<string | null>(null)
  const fail = (cause: unknown): void => {
    error.value = cause instanceof Error ? cause : new Error(String(cause))
  }

  /** An entry is one message: its id on its topic (ids are unique per topic). */
  const setPending = (topic: string, id: string, patch: Partial<PendingPublish<T>> | null): void => {
    const list = pending.value
    const index = list.findIndex((p) => p.id === id && p.topic === topic)
    if (index === -1) return
    const next = [...list]
    if (patch === null) next.splice(index, 1)
    else next[index] = { ...next[index], ...patch }
    pending.value = next
  }

  const toMessage = (frame: MessageFrame): ChannelMessage<T> | undefined => {
    let data = frame.data as T
    if (options.parse) {
      try {
        data = options.parse(frame.data)
      } catch (cause) {
        invalid.value++
        fail(new RealtimeProtocolError('invalid_payload', `vue-realtime: dropped a message on "${frame.topic}" that failed validation: ${errorMessage(cause)}`))
        return undefined
      }
    }
    return { topic: frame.topic, seq: frame.seq, id: frame.id, data, from: frame.from, user: frame.user, ts: frame.ts }
  }

  const call = <A>(name: string, fn: ((arg: A) => void) | undefined, arg: A): void => {
    if (!fn) return
    try {
      fn(arg)
    } catch (cause) {
      fail(cause)
      if (process.env.NODE_ENV !== 'production') reportError(`useChannel: ${name} threw; the channel is unaffected.`, cause)
    }
  }

  const onPresence = (frame: PresenceFrame): void => {
    const others = presence.value.filter((m) => m.clientId !== frame.member.clientId)
    presence.value = frame.event === 'leave' ? others : [...others, frame.member]
  }

  /** The error of the last refused subscribe (cleared from `error` once a join succeeds). */
  let refusal: Error | null = null
  const listener: TopicListener = {
    message(frame) {
      const message = toMessage(frame)
      if (!message) return
      if (frame.ephemeral || frame.seq === undefined) return call('onEphemeral', options.onEphemeral, message)
      push(message)
      call('onMessage', options.onMessage, message)
    },
    subscribed(frame) {
      // A refusal this join answers is over (a retry after "retry later" got in).
      if (error.value === refusal) error.value = null
      subscribed.value = true
      recovered.value = frame.recovered
      presence.value = frame.presence
    },
    presence: onPresence,
    error: fail,
    refused(cause) {
      subscribed.value = false
      fail(cause)
      refusal = error.value
    },
    gap(info) {
      recovered.value = false
      call('onGap', options.onGap, info)
    },
  }

  let client: ProtocolClient | undefined
  let stops: (() => void)[] = []
  /** Does `messages` hold what an earlier subscription showed? A new one then starts from empty. */
  let shown = false
  const leave = (): void => {
    for (const stop of stops) stop()
    stops = []
    client = undefined
    subscribed.value = false
  }
  const reset = (): void => {
    clear()
    presence.value = []
    recovered.value = null
    shown = false
  }

  watch(
    [socket.connection, () => toValue(topic)] as const,
    ([connection, name], previous) => {
      leave()
      // Another room: its messages, members and recovery state are not this one's.
      if (previous && previous[1] !== name) reset()
      // The connection's protocol client reads its frames from the channel's acquire on, also
      // while no topic is set: the server's `welcome` (this client's id) comes once per socket.
      const protocol = connection ? ProtocolClient.for(connection) : undefined
      clientId.value = protocol?.clientId ?? null
      if (protocol) stops.push(protocol.onWelcome((welcome) => (clientId.value = welcome.clientId)))
      if (!connection || !protocol || !name) return
      // Another connection (a changed URL) joins afresh and replays the history: never shown twice.
      if (shown) reset()
      client = protocol
      try {
        stops.push(client.subscribe(name, listener, { history: options.history ?? DEFAULT_HISTORY }))
      } catch (cause) {
        fail(cause)
        return
      }
      shown = true
      stops.push(
        client.onError(fail),
        // Joined means joined on the socket in hand: any other status (a socket replaced by
        // reconnect(), closing, lost) waits for the next `subscribed`.
        connection.on('state', (state) => {
          if (state.status !== 'open') subscribed.value = false
        }),
      )
    },
    { immediate: true },
  )
  if (getCurrentScope()) onScopeDispose(leave)

  // A connection that failed for good says why in `error`; the error goes once it opens again.
  let failed: Error | null = null
  watch(socket.status, (status) => {
    if (status === 'failed') {
      error.value = failed = failure(socket.lastClose.value, socket.error.value?.message)
    } else if (status === 'open' && failed) {
      if (error.value === failed) error.value = null
      failed = null
    }
  })

  const notReady = (what: string): Promise<never> =>
    Promise.reject(
      new RealtimeProtocolError(
        'no_connection',
        `vue-realtime: ${what} needs a connection: give useChannel a url (or createRealtime({ url })) and a topic.`,
      ),
    )

  const send = (name: string, id: string, data: T, ephemeral: boolean | undefined, timeout: number | undefined): Promise<AckFrame> => {
    const promise = client!.publish(name, data, { id, ephemeral, timeout: timeout ?? options.publishTimeout })
    if (ephemeral) return promise
    if (socket.status.value === 'open') setPending(name, id, { state: 'sent' })
    promise.then(
      () => setPending(name, id, null),
      (cause: RealtimeProtocolError) => {
        setPending(name, id, { state: 'failed', error: cause })
        // A closed or failed connection already says so in `status` and `error`.
        if (cause.code !== 'closed' && cause.code !== 'failed') fail(cause)
      },
    )
    return promise
  }

  // Delivery marks follow the link: what waited is on the wire once the socket reopens.
  watch(socket.status, (status) => {
    if (pending.value.length === 0) return
    const state = status === 'open' ? 'sent' : 'pending'
    if (pending.value.some((p) => p.state !== 'failed' && p.state !== state)) {
      pending.value = pending.value.map((p) => (p.state === 'failed' ? p : { ...p, state }))
    }
  })

  return {
    messages,
    subscribed,
    recovered,
    error,
    lastClose: socket.lastClose,
    presence,
    pending,
    invalid,
    status: socket.status,
    clientId,
    publish(data, publishOptions = {}) {
      const name = toValue(topic)
      // Nothing can carry it: refuse at once, and list nothing that will never be sent.
      if (!client || !name) return notReady('publish')
      const id = publishOptions.id ?? randomId()
      if (!publishOptions.ephemeral && !pending.value.some((p) => p.id === id && p.topic === name)) {
        pending.value = [...pending.value, { id, topic: name, data, state: 'pending' }]
      }
      return send(name, id, data, publishOptions.ephemeral, publishOptions.timeout)
    },
    retry(id) {
      // A failed one first, should the id be listed on two topics.
      const entry = pending.value.find((p) => p.id === id && p.state === 'failed') ?? pending.value.find((p) => p.id === id)
      if (!entry) return undefined
      if (!client) return notReady('retry')
      setPending(entry.topic, id, { state: socket.status.value === 'open' ? 'sent' : 'pending', error: undefined })
      return send(entry.topic, id, entry.data, false, undefined)
    },
    request<R>(data?: unknown, requestOptions: { timeout?: number; method?: string } = {}) {
      const method = requestOptions.method ?? toValue(topic)
      if (!client || !method) return notReady('request')
      return client.request<R>(method, data, { timeout: requestOptions.timeout })
    },
    reconnect: socket.reconnect,
    clear,
  }
}
