/**
 * The protocol server without a transport: clients, topics, presence, frames, publish and
 * shutdown over an engine. A transport (the `ws` server of `createRealtimeServer`, the crossws
 * hooks of `createRealtimeHooks`) admits upgrades through `admit`, hands each accepted socket
 * to `accept`, and feeds it what the socket receives. The split follows graphql-ws
 * (`makeServer` and its `use/*` adapters).
 */
import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import { withRetryHint } from '../core/backoff'
import { closeCodeInfo } from '../core/closeCodes'
import { CloseCode, PROTOCOL, isFrameId, isValidTopic, TOPIC_PATTERN } from '../core/protocol'
import { ClientConnection, type Outbound } from './client'
import { DEFAULTS, type ResolvedLimits, type ServerContext } from './context'
import { Emitter } from './emitter'
import { Emptied } from './emptied'
import { encodeData, nestingDepth } from './encode'
import type { EnginePublish, RealtimeEngine } from './engine'
import { memoryEngine } from './engine-memory'
import { SqliteEngine } from './engine-sqlite'
import { FrameHandler, published } from './frames'
import { bootId } from './sqlite-file'
import { admit, originPolicy, type Admission, type UpgradeView } from './gate'
import { Presence } from './presence'
import { TopicRegistry } from './topics'
import type { TransportPeer, TransportSocket } from './transport'
import type { CloseOptions, RealtimeProtocolOptions, RealtimeServerCore, RealtimeServerEvents, ServerPublishResult } from './types'

export const PREFIX = '[vue-realtime/server]'

function positive(name: string, value: number | undefined, fallback: number): number {
  const result = value ?? fallback
  if (typeof result !== 'number' || !(result > 0)) {
    throw new TypeError(`${PREFIX} option "${name}" must be a positive number, got ${String(value)}.`)
  }
  return result
}

function resolveLimits<User, Req>(options: RealtimeProtocolOptions<User, Req>): ResolvedLimits {
  const rateLimit = options.rateLimit === undefined ? DEFAULTS.rateLimit : options.rateLimit
  if (rateLimit) {
    positive('rateLimit.messages', rateLimit.messages, 0)
    positive('rateLimit.perMs', rateLimit.perMs, 0)
  }
  const newTopicLimit = options.newTopicLimit === undefined ? DEFAULTS.newTopicLimit : options.newTopicLimit
  if (newTopicLimit) {
    positive('newTopicLimit.topics', newTopicLimit.topics, 0)
    positive('newTopicLimit.perMs', newTopicLimit.perMs, 0)
  }
  const maxBufferedAmount = positive('maxBufferedAmount', options.maxBufferedAmount, DEFAULTS.maxBufferedAmount)
  const replayMaxBytes = positive('replayMaxBytes', options.replayMaxBytes, Math.floor(maxBufferedAmount / 2))
  if (replayMaxBytes >= maxBufferedAmount) {
    throw new TypeError(`${PREFIX} option "replayMaxBytes" (${replayMaxBytes}) must be below "maxBufferedAmount" (${maxBufferedAmount}), or every large replay closes its client as a slow consumer.`)
  }
  return {
    heartbeatInterval: positive('heartbeatInterval', options.heartbeatInterval, DEFAULTS.heartbeatInterval),
    maxPayload: positive('maxPayload', options.maxPayload, DEFAULTS.maxPayload),
    rateLimit: rateLimit ? { ...rateLimit } : false,
    maxTopicsPerConnection: positive('maxTopicsPerConnection', options.maxTopicsPerConnection, DEFAULTS.maxTopicsPerConnection),
    newTopicLimit: newTopicLimit ? { ...newTopicLimit } : false,
    replayLimit: positive('replayLimit', options.replayLimit, DEFAULTS.replayLimit),
    replayMaxBytes,
    maxDepth: positive('maxDepth', options.maxDepth, DEFAULTS.maxDepth),
    maxBufferedAmount,
    presence: options.presence ?? true,
  }
}

/** The database `dataDir` keeps: `sqliteEngine({ path: join(dataDir, DATA_FILE) })`. */
export const DATA_FILE = 'realtime.db'

/** The engine the options ask for; `owned` when the server made it (and so closes it). */
function engineOf<User, Req>(options: RealtimeProtocolOptions<User, Req>): { engine: RealtimeEngine; owned: boolean } {
  if (options.engine) return { engine: options.engine, owned: false }
  const settings = { historyLimit: options.historyLimit, dedupeWindow: options.dedupeWindow, now: options.now }
  const { dataDir } = options
  // A data folder of the JSON-lines store (before SQLite) is imported once, into the new database.
  const engine = dataDir ? new SqliteEngine({ path: join(dataDir, DATA_FILE), ...settings }, { bootId, importFrom: dataDir }) : memoryEngine(settings)
  return { engine, owned: true }
}

/** Swallows a rejection that is handled elsewhere (awaiting `ready` still throws). */
const ignore = (): void => {}

/** The transport-free server. Internal: transports build their public objects on it. */
export interface ProtocolCore<User, Req> {
  readonly ctx: ServerContext<User>
  /** The public part every transport exposes as is. */
  readonly api: Omit<RealtimeServerCore<User>, 'close'>
  /** Resolves once the engine is ready (transports then do their own setup and call `open`). */
  readonly engineReady: Promise<void>
  /** True between `open()` and `beginClose()`: upgrades may be accepted. */
  readonly accepting: boolean
  /** The transport is ready too: start presence sweeps and accept connections. */
  open(): void
  /** The transport failed to start: `ready` rejects with `error`. */
  fail(error: unknown): void
  /** The origin check and `authenticate`, for one upgrade request. */
  admit(view: UpgradeView<Req>, signal: AbortSignal, authenticateTimeout: number): Promise<Admission<User>>
  /** A socket passed `admit`: it becomes a client (welcome sent, `connection` emitted). */
  /** `outbound`: the byte stream under the socket, where the transport has one (frames are then batched per tick). */
  accept(socket: TransportSocket, user: User | undefined, outbound?: Outbound): TransportPeer
  /** Stops accepting and stops the presence sweeps (first step of a shutdown). */
  beginClose(): void
  /** Closes every client with `code` (and its retry hint), waits up to `timeout` ms for them to go, terminates the rest. */
  closeClients(close: ResolvedClose): Promise<void>
  /** Lets in-flight frames finish (up to `timeout` ms), then closes topics and the engine the server made. */
  finishClose(timeout: number): Promise<void>
}

/**
 * A place in 0..n-1 for each of n clients (in the order they connected) such that any run of
 * consecutive clients is spread over the whole window, not bunched in one part of it: places
 * ranked by frac(i·φ), a low-discrepancy sequence. Clients that connected together often share
 * a path (one proxy, one machine, one busy process) whose close arrives late all at once; with
 * consecutive places such a group would land on top of another's, doubling the rate there.
 */
function spreadOrder(n: number): number[] {
  const key = (i: number) => (i * 0.6180339887498949) % 1
  const byKey = Array.from({ length: n }, (_, i) => i).sort((a, b) => key(a) - key(b))
  const places = new Array<number>(n)
  byKey.forEach((client, place) => (places[client] = place))
  return places
}

/** `CloseOptions` with every field present. */
export type ResolvedClose = Required<CloseOptions>

/** The shutdown's options, checked, with their defaults. */
function resolveClose(options: CloseOptions = {}): ResolvedClose {
  const { code = CloseCode.ServiceRestart, reason = 'server shutting down', timeout = DEFAULTS.closeTimeout, retryRate = DEFAULTS.retryRate, retryAfter = 0 } = options
  for (const [key, value] of [['retryRate', retryRate], ['retryAfter', retryAfter]] as const) {
    if (typeof value !== 'number' || !(value >= 0) || value === Number.POSITIVE_INFINITY) {
      throw new RangeError(`${PREFIX} close({ ${key} }) must be a finite number ≥ 0 (got ${String(value)}); use retryRate: 0 to send no retry hint.`)
    }
  }
  return { code, reason, timeout, retryRate, retryAfter }
}

/**
 * A transport's `close()`: its options checked first (a bad one rejects and changes nothing, so
 * the server keeps running and may be closed again), then `run` once; every later call gets the
 * same promise.
 */
export function closeOnce(run: (close: ResolvedClose) => Promise<void>): (options?: CloseOptions) => Promise<void> {
  let closing: Promise<void> | null = null
  return (options = {}) => {
    if (closing) return closing
    let resolved: ResolvedClose
    try {
      resolved = resolveClose(options)
    } catch (error) {
      return Promise.reject(error)
    }
    return (closing = run(resolved))
  }
}

export function createProtocolCore<User, Req>(options: RealtimeProtocolOptions<User, Req>): ProtocolCore<User, Req> {
  const limits = resolveLimits(options)
  const originAllowed = originPolicy(options)
  const { engine, owned } = engineOf(options)
  const events = new Emitter<RealtimeServerEvents<User>>()
  const ctx: ServerContext<User> = {
    limits,
    engine,
    options: options as RealtimeProtocolOptions<User, never>,
    events,
    now: options.now ?? Date.now,
    report(error, what) {
      const cause = error instanceof Error ? error : new Error(String(error))
      const wrapped = new Error(`${PREFIX} ${what}: ${cause.message}`, { cause })
      if (events.has('error')) events.emit('error', wrapped)
      else console.error(wrapped)
    },
  }
  const clients = new Map<string, ClientConnection<User>>()
  const topics = new TopicRegistry<User>(ctx)
  const presence = new Presence<User>(ctx, clients)
  const frames = new FrameHandler<User>(ctx, topics, presence)
  let state: 'starting' | 'open' | 'closing' | 'closed' = 'starting'
  const clientsGone = new Emptied(() => clients.size)

  let resolveReady!: () => void
  let rejectReady!: (error: unknown) => void
  const ready = new Promise<void>((resolve, reject) => {
    resolveReady = resolve
    rejectReady = reject
  })
  ready.catch(ignore)
  const engineReady = engine.ready()
  engineReady.catch(ignore)

  async function publish(topic: string, data: unknown, publishOptions: { ephemeral?: boolean; id?: string | number } = {}): Promise<ServerPublishResult> {
    if (!isValidTopic(topic)) throw new TypeError(`${PREFIX} publish: topic "${String(topic).slice(0, 140)}" must match ${String(TOPIC_PATTERN)}.`)
    const json = encodeData(data)
    if (json === undefined) throw new TypeError(`${PREFIX} publish: data must be JSON-serialisable (no undefined, BigInt, cycles or nesting deeper than ${limits.maxDepth}).`)
    if (nestingDepth(json) > limits.maxDepth) throw new TypeError(`${PREFIX} publish: data nests deeper than ${limits.maxDepth} levels (option maxDepth); send flatter data.`)
    const id = publishOptions.id ?? `server:${randomUUID()}`
    if (!isFrameId(id)) throw new TypeError(`${PREFIX} publish: id must be a string of 1-128 characters or an integer.`)
    await ready
    if (state !== 'open') throw new Error(`${PREFIX} publish after close(); create a new server.`)
    const message: EnginePublish = { topic, id, data: json, from: 'server', ts: ctx.now() }
    // Results carry a JSON copy of the data: what clients receive, safe from later mutation by the caller.
    if (publishOptions.ephemeral) {
      const { duplicate } = await engine.broadcast(message)
      const result = published(message, JSON.parse(json), true)
      if (!duplicate) events.emit('publish', result)
      return { ...result, duplicate }
    }
    const { message: stored, duplicate } = await engine.publish(message)
    // A duplicate resolves with the ORIGINAL message, not the data given now (bug 27).
    const result = published(stored, JSON.parse(stored.data), false)
    if (!duplicate) events.emit('publish', result)
    return { ...result, duplicate }
  }

  function accept(socket: TransportSocket, user: User | undefined, outbound?: Outbound): TransportPeer {
    const client = new ClientConnection<User>(randomUUID(), user, socket, ctx, outbound)
    clients.set(client.id, client)
    client.send({ type: 'welcome', protocol: PROTOCOL, clientId: client.id, heartbeat: limits.heartbeatInterval, ...(user !== undefined ? { user } : {}) })
    events.emit('connection', client)
    let gone = false
    return {
      receive(data, isBinary) {
        // `ws` enforces maxPayload itself; other transports may not.
        if (data.byteLength > limits.maxPayload) return client.close(CloseCode.MessageTooBig, `frame larger than ${limits.maxPayload} bytes`)
        try {
          frames.receive(client, data, isBinary)
        } catch (error) {
          ctx.report(error, 'handling an inbound frame')
        }
      },
      ping: () => presence.touch(client),
      closed(code, reason) {
        if (gone) return
        gone = true
        client.closing = true
        clients.delete(client.id)
        topics.removeClient(client)
        events.emit('disconnect', { client, code, reason })
        clientsGone.check()
      },
    }
  }

  return {
    ctx,
    engineReady,
    get accepting() {
      return state === 'open'
    },
    api: {
      ready,
      clients,
      engine,
      topics: () => topics.names(),
      presence: (topic) => presence.members(topic),
      publish,
      on: (event, listener) => events.on(event, listener),
    },
    open() {
      if (state !== 'starting') return resolveReady()
      presence.start()
      state = 'open'
      resolveReady()
    },
    fail: (error) => rejectReady(error),
    admit: (view, signal, authenticateTimeout) => admit(view, options, { signal, authenticateTimeout, originAllowed }),
    accept,
    beginClose() {
      state = 'closing'
      presence.stop()
    },
    async closeClients({ code, reason, timeout, retryRate, retryAfter }) {
      const all = [...clients.values()]
      // Each client its own moment, evenly spread: the herd comes back at retryRate per second.
      const window = Math.max(DEFAULTS.retryWindow, Math.ceil((all.length * 1000) / retryRate))
      const hinted = retryRate > 0 && closeCodeInfo(code).retryable
      const places = hinted ? spreadOrder(all.length) : []
      all.forEach((client, i) => {
        client.close(code, hinted ? withRetryHint(reason, { delay: retryAfter + Math.floor((places[i] * window) / all.length), window }) : reason)
      })
      await clientsGone.wait(timeout)
      // Whoever did not finish the closing handshake in time is cut off; their close events come
      // a few ticks later: wait for those too, so their leaves reach the engine before it closes.
      for (const client of clients.values()) client.terminate()
      await clientsGone.wait(timeout)
    },
    async finishClose(timeout) {
      // An `authorize` hook or an engine that hangs must not hold the shutdown forever.
      await frames.drain(timeout)
      await topics.close()
      if (owned) {
        try {
          await engine.close()
        } catch (error) {
          ctx.report(error, `closing the ${engine.name} engine`)
        }
      }
      state = 'closed'
    },
  }
}
