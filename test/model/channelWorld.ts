/**
 * The real system the channel model drives: real protocol servers behind the loopback fault
 * proxy, one `ConnectionManager` with an injected environment (offline/online, a clock that
 * can jump, counted timers), and two `useChannel` views in their own effect scopes. The store
 * is drawn per run: one server on the memory engine, one on SQLite (`dataDir`), or two nodes on
 * one real redis-server (`redisEngine`), with the proxy as the load balancer that routes new
 * connections to one of them; and so is the transport of the nodes (`createRealtimeServer` on
 * `ws`, or the crossws hooks on crossws's Node adapter). Everything a check needs is recorded here.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { effectScope, ref, type EffectScope, type Ref } from 'vue'
import WebSocket from 'ws'
import type { Connection } from '../../src/core/connection'
import { createManualEnvironment } from '../../src/core/environment'
import { ConnectionManager } from '../../src/core/manager'
import { ProtocolClient } from '../../src/core/protocolClient'
import type { AckFrame } from '../../src/core/protocol'
import type { WebSocketConstructor } from '../../src/core/types'
import { createRealtimeServer, redisEngine, type RealtimeEngine, type RealtimeServerCore } from '../../src/server'
import { mountHooks, type CrosswsVersion } from '../support/crosswsServer'
import type { RedisServer } from '../support/redis'
import { useChannel, type ChannelMessage, type UseChannelReturn } from '../../src/vue/useChannel'
import { createFaultProxy, type FaultProxy } from '../support/proxy'

export const TOPICS = ['room:a', 'room:b'] as const
export const URLS = ['/?v=0', '/?v=1'] as const
/** Short enough that a run ends quickly, long enough for a reconnect on a busy machine. */
export const PUBLISH_TIMEOUT = 4_000
/** Small, so a long outage trims history and the replay must say `recovered: false`. */
export const HISTORY_LIMIT = 12

/**
 * A node silent this long is dead and its presence members leave (short, so that the members of
 * a node stopped while it could not reach Redis leave within a run's waits, as a killed node's do).
 */
export const NODE_TTL = 1_500

/** Where the servers keep topics: one memory server, one SQLite server, or two nodes on one Redis. */
export type StoreKind = 'memory' | 'sqlite' | 'redis'

/** How a node serves WebSockets: `createRealtimeServer` (on `ws`), or the crossws hooks on crossws's Node adapter. */
export type Transport = 'ws' | `crossws ${CrosswsVersion}`

/** A node: either transport, with its port (the surface the model uses). */
export type ModelServer = RealtimeServerCore & { readonly port: number }

export type Payload = { n: number; by: string }

/** One publish call and what became of it. */
export interface PublishRecord {
  view: number
  topic: string
  id: string
  ephemeral: boolean
  /** How many times the promise settled (a promise settles once; counted to prove it settles at all). */
  settled: number
  outcome: { ack: AckFrame } | { error: Error } | null
  /**
   * Set when the publish timed out although its link stayed open and healthy the whole time
   * (the same socket, no blackhole, no close): the server answers in milliseconds, so that is a
   * publish the client never wrote.
   */
  lostOnOpenLink?: string
}

/** One request call (`echo`, answered by whichever node holds the socket) and what became of it. */
export interface RequestRecord {
  view: number
  /** Sent as the request's data and echoed back: the handler counts its runs by it. */
  token: string
  settled: number
  outcome: { data: unknown } | { error: Error & { code?: string } } | null
  /** Set when it timed out on a link that stayed open and healthy (as for publishes). */
  lostOnOpenLink?: string
}

export interface View {
  index: number
  scope: EffectScope
  channel: UseChannelReturn<Payload>
  topic: Ref<string | undefined>
  url: Ref<string | undefined>
  /** Messages after which this view was told of a gap (`onGap` fired right after them). */
  gapAfter: WeakSet<ChannelMessage<Payload>>
  /** Ids this view published (for "publish again with the same id"). */
  ids: { id: string; topic: string; data: Payload }[]
}

/** Timers of the injected environment still scheduled (each owner must clear its own). */
function countingTimers() {
  const live = new Set<ReturnType<typeof setTimeout>>()
  return {
    live,
    setTimeout: (fn: () => void, ms: number) => {
      const handle = setTimeout(() => {
        live.delete(handle)
        fn()
      }, ms)
      live.add(handle)
      return handle
    },
    clearTimeout: (handle: unknown) => {
      live.delete(handle as ReturnType<typeof setTimeout>)
      clearTimeout(handle as ReturnType<typeof setTimeout>)
    },
  }
}

export class ChannelWorld {
  /** The server nodes (one, or two on Redis); null while stopped. */
  readonly nodes: (ModelServer | null)[]
  /** Each node's port (a restarted node keeps it). */
  readonly ports: number[]
  /** Each node's Redis engine (a server leaves an engine it was given to its owner to close). */
  readonly engines: (RealtimeEngine | null)[]
  /** The node the proxy sends new connections to. */
  routed = 0
  proxy!: FaultProxy
  /** What the servers stored: `${epoch}|${topic}|${seq}` → id (a memory server that restarted, or a Redis that did, numbers anew under a new epoch). */
  readonly truth = new Map<string, string | number>()
  /** Every epoch the truth has messages under. */
  readonly epochs = new Set<string>()
  /** What the acks said was stored: `${epoch}|${topic}|${seq}` → id. */
  readonly acked = new Map<string, string | number>()
  /** Messages a view showed that no `publish` event had told of then (checked at the end against the acks too). */
  readonly unverified = new Map<string, { message: ChannelMessage<Payload>; where: string }>()
  readonly timers = countingTimers()
  clockOffset = 0
  readonly env = createManualEnvironment({
    setTimeout: this.timers.setTimeout,
    clearTimeout: this.timers.clearTimeout,
    now: () => Date.now() + this.clockOffset,
  })
  readonly manager: ConnectionManager
  readonly views: View[] = []
  readonly publishes: PublishRecord[] = []
  readonly requests: RequestRecord[] = []
  /** Runs of the request handler, per token, on every node: a request never runs twice. */
  readonly handled = new Map<string, number>()
  /** Every connection the manager made (to check each one's protocol client at the end). */
  readonly connections = new Set<Connection>()
  /** Connections the user closed and nothing reopened since: they must stay closed. */
  readonly closedByUser = new Set<Connection>()
  blackholed = false
  /** Blackholes so far: a publish that waited across one may time out on an "open" link. */
  blackholes = 0
  /** Redis faults so far (a restart, killed pub/sub connections): a publish that waited across one may time out on an open link. */
  redisFaults = 0
  /** Close events per connection: a publish that waited across one may time out. */
  readonly closes = new WeakMap<Connection, number>()
  counter = 0
  readonly dataDir: string | undefined
  /** What any server instance reported through its `error` event: must stay empty. */
  readonly serverErrors: string[] = []

  /**
   * @param kind where topics live
   * @param redis the redis-server for `'redis'` (each world keys its topics under `prefix`)
   */
  constructor(
    readonly kind: StoreKind,
    readonly redis?: { server: RedisServer; prefix: string },
    readonly transport: Transport = 'ws',
  ) {
    if (kind === 'redis' && !redis) throw new Error('a Redis world needs a redis-server')
    const count = kind === 'redis' ? 2 : 1
    this.nodes = Array.from({ length: count }, () => null)
    this.ports = Array.from({ length: count }, () => 0)
    this.engines = Array.from({ length: count }, () => null)
    this.dataDir = kind === 'sqlite' ? mkdtempSync(join(tmpdir(), 'vue-realtime-model-')) : undefined
    this.manager = new ConnectionManager({
      WebSocket: WebSocket as unknown as WebSocketConstructor,
      environment: this.env,
      reconnect: { minDelay: 20, maxDelay: 200 },
      heartbeat: { interval: 500, timeout: 1_000 },
      idleTimeout: 0,
    })
    this.manager.on('add', (connection) => {
      this.connections.add(connection)
      connection.on('close', () => this.closes.set(connection, (this.closes.get(connection) ?? 0) + 1))
    })
  }

  /** The node new connections reach (null while it is stopped). */
  get server(): ModelServer | null {
    return this.nodes[this.routed]
  }

  /** Redis runs: the nodes reach Redis through this proxy (a partition between the nodes and Redis, its data kept). */
  redisLink: FaultProxy | null = null

  async start(): Promise<void> {
    if (this.kind === 'redis') this.redisLink = await createFaultProxy({ target: { port: this.redis!.server.port } })
    for (let node = 0; node < this.nodes.length; node++) await this.startServer(node)
    this.proxy = await createFaultProxy({ target: { port: this.ports[0] } })
    for (const index of [0, 1]) this.views.push(this.mountView(index))
  }

  /** Starts node `node` (on the port it had, if it ran before). */
  async startServer(node = this.routed): Promise<void> {
    const engine = this.redisLink ? redisEngine({ url: `redis://127.0.0.1:${this.redisLink.port}`, prefix: this.redis!.prefix, historyLimit: HISTORY_LIMIT, nodeTtlMs: NODE_TTL }) : null
    const options = {
      historyLimit: HISTORY_LIMIT,
      ...(this.dataDir ? { dataDir: this.dataDir } : {}),
      ...(engine ? { engine } : {}),
      onRequest: {
        echo: (data: unknown) => {
          const token = (data as { token?: unknown } | undefined)?.token
          if (typeof token === 'string') this.handled.set(token, (this.handled.get(token) ?? 0) + 1)
          return data
        },
      },
    }
    const crossws = /^crossws (.+)$/.exec(this.transport)?.[1] as CrosswsVersion | undefined
    const server: ModelServer = crossws
      ? await mountHooks(options, { port: this.ports[node], version: crossws })
      : createRealtimeServer({ host: '127.0.0.1', port: this.ports[node], ...options })
    server.on('error', (error) => this.serverErrors.push(`node ${node}: ${error.message}`))
    await server.ready
    this.ports[node] = server.port
    server.on('publish', (m) => {
      if (m.seq === undefined || m.epoch === undefined) return
      this.truth.set(`${m.epoch}|${m.topic}|${m.seq}`, m.id)
      this.epochs.add(m.epoch)
    })
    this.nodes[node] = server
    this.engines[node] = engine
  }

  /** Stops node `node` as a deploy does (1012), then closes its engine. */
  async stopServer(node = this.routed): Promise<void> {
    const server = this.nodes[node]
    const engine = this.engines[node]
    this.nodes[node] = null
    this.engines[node] = null
    await server?.close({ code: 1012, timeout: 200 })
    await engine?.close()
  }

  /** New connections go to node `node` from now on (current ones stay where they are). */
  route(node: number): void {
    this.routed = node
    this.proxy.retarget({ port: this.ports[node] })
  }

  /** The epochs under which a server stored `message` under its seq and id, as its `publish` events said (empty: none did). */
  storedBy(message: ChannelMessage<Payload>): string[] {
    const found: string[] = []
    for (const epoch of this.epochs) {
      if (this.truth.get(`${epoch}|${message.topic}|${message.seq}`) === message.id) found.push(epoch)
    }
    return found
  }

  /**
   * A message no `publish` event and no ack told of can still be one of this world's: a stored
   * publish the client gave up on (the user closed its connection, a timeout) that a node stored
   * while its reply from Redis was lost, so that node fired no `publish` event (see the server
   * guide). It must be that publish whole: same topic, id and data, and rejected, never acked.
   */
  rejectedButStored(message: ChannelMessage<Payload>): boolean {
    const record = this.publishes.find((p) => p.id === message.id && p.topic === message.topic && !p.ephemeral)
    if (!record?.outcome || !('error' in record.outcome)) return false
    const sent = this.views[record.view]?.ids.find((x) => x.id === message.id && x.topic === message.topic)
    return sent !== undefined && JSON.stringify(sent.data) === JSON.stringify(message.data)
  }

  /** Did a publish event or an ack say that `message` is stored under its seq and id? */
  storedOrAcked(message: ChannelMessage<Payload>): boolean {
    if (this.storedBy(message).length > 0) return true
    for (const [key, id] of this.acked) if (id === message.id && key.endsWith(`|${message.topic}|${message.seq}`)) return true
    return false
  }

  url(path: string): string {
    return this.proxy.url(path)
  }

  private mountView(index: number): View {
    const scope = effectScope(true)
    const topic = ref<string | undefined>(TOPICS[index])
    const url = ref<string | undefined>(this.url(URLS[0]))
    const gapAfter = new WeakSet<ChannelMessage<Payload>>()
    const channel = scope.run(() =>
      useChannel<Payload>(() => topic.value, {
        url,
        manager: this.manager,
        history: 5,
        maxMessages: 100_000,
        publishTimeout: PUBLISH_TIMEOUT,
        onGap: () => {
          const last = channel.messages.value.at(-1)
          if (last) gapAfter.add(last)
        },
      }),
    )!
    return { index, scope, channel, topic, url, gapAfter, ids: [] }
  }

  /** The connection a view holds now, if any. */
  connectionOf(view: View): Connection | undefined {
    return view.url.value === undefined ? undefined : this.manager.get(view.url.value, 'vue-realtime.v1')
  }

  publish(view: View, data: Payload, options: { id?: string; ephemeral?: boolean }): PublishRecord {
    const topic = view.topic.value ?? ''
    const record: PublishRecord = { view: view.index, topic, id: options.id ?? '', ephemeral: !!options.ephemeral, settled: 0, outcome: null }
    const id = options.id ?? `v${view.index}-${++this.counter}`
    record.id = id
    this.publishes.push(record)
    if (!options.ephemeral && view.topic.value) view.ids.push({ id, topic, data })
    const connection = this.connectionOf(view)
    const wasOpen = connection?.status === 'open' && !this.blackholed
    const closes = connection && this.closes.get(connection)
    const blackholes = this.blackholes
    const redisFaults = this.redisFaults
    view.channel.publish(data, { id, ephemeral: options.ephemeral }).then(
      (ack) => {
        record.settled++
        record.outcome = { ack }
        // The ack says where the store keeps it (also when the publish event never came: see `unverified`).
        if (ack.seq !== undefined && ack.epoch !== undefined) this.acked.set(`${ack.epoch}|${topic}|${ack.seq}`, ack.id)
      },
      (error: Error & { code?: string }) => {
        record.settled++
        record.outcome = { error }
        const stayedOpen =
          wasOpen &&
          connection.status === 'open' &&
          this.closes.get(connection) === closes &&
          this.blackholes === blackholes &&
          !this.blackholed &&
          this.redisFaults === redisFaults
        if (error.code === 'timeout' && stayedOpen) record.lostOnOpenLink = `${id} timed out on ${connection.key}, open and healthy throughout`
      },
    )
    return record
  }

  /** A request from `view` (never resent: written once, or rejected). */
  request(view: View): RequestRecord {
    const record: RequestRecord = { view: view.index, token: `r${++this.counter}`, settled: 0, outcome: null }
    this.requests.push(record)
    const connection = this.connectionOf(view)
    const wasOpen = connection?.status === 'open' && !this.blackholed
    const closes = connection && this.closes.get(connection)
    const blackholes = this.blackholes
    view.channel.request({ token: record.token }, { method: 'echo', timeout: PUBLISH_TIMEOUT }).then(
      (data) => {
        record.settled++
        record.outcome = { data }
      },
      (error: Error & { code?: string }) => {
        record.settled++
        record.outcome = { error }
        const stayedOpen = wasOpen && connection.status === 'open' && this.closes.get(connection) === closes && this.blackholes === blackholes && !this.blackholed
        if (error.code === 'timeout' && stayedOpen) record.lostOnOpenLink = `request ${record.token} timed out on ${connection.key}, open and healthy throughout`
      },
    )
    return record
  }

  /** Every client's pending calls (0 once disposed). */
  pendingCalls(): number {
    let total = 0
    for (const connection of this.connections) total += ProtocolClient.for(connection).pendingCount ?? 0
    return total
  }

  async dispose(): Promise<void> {
    for (const view of this.views) view.scope.stop()
    this.manager.dispose()
    await this.proxy?.close()
    await this.redisLink?.refuse(false)
    for (let node = 0; node < this.nodes.length; node++) await this.stopServer(node)
    await this.redisLink?.close()
  }

  cleanupFiles(): void {
    if (this.dataDir) rmSync(this.dataDir, { recursive: true, force: true })
  }
}
