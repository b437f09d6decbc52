/**
 * The real system the channel model drives: a real protocol server (persistent store or
 * memory) behind the loopback fault proxy, one `ConnectionManager` with an injected
 * environment (offline/online, a clock that can jump, counted timers), and two `useChannel`
 * views in their own effect scopes. Everything a check needs is recorded here.
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
import { createRealtimeServer, type RealtimeServer } from '../../src/server'
import { useChannel, type ChannelMessage, type UseChannelReturn } from '../../src/vue/useChannel'
import { createFaultProxy, type FaultProxy } from '../support/proxy'

export const TOPICS = ['room:a', 'room:b'] as const
export const URLS = ['/?v=0', '/?v=1'] as const
/** Short enough that a run ends quickly, long enough for a reconnect on a busy machine. */
export const PUBLISH_TIMEOUT = 4_000
/** Small, so a long outage trims history and the replay must say `recovered: false`. */
export const HISTORY_LIMIT = 12

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
  server: RealtimeServer | null = null
  proxy!: FaultProxy
  port = 0
  /** Server instances started; with a memory store each one numbers topics from scratch. */
  generation = 0
  /** What the servers stored: `${generation}|${topic}|${seq}` → id (generation 0 for a persistent store). */
  readonly truth = new Map<string, string | number>()
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
  /** Every connection the manager made (to check each one's protocol client at the end). */
  readonly connections = new Set<Connection>()
  /** Connections the user closed and nothing reopened since: they must stay closed. */
  readonly closedByUser = new Set<Connection>()
  blackholed = false
  /** Blackholes so far: a publish that waited across one may time out on an "open" link. */
  blackholes = 0
  /** Close events per connection: a publish that waited across one may time out. */
  readonly closes = new WeakMap<Connection, number>()
  counter = 0
  readonly dataDir: string | undefined
  /** What any server instance reported through its `error` event: must stay empty. */
  readonly serverErrors: string[] = []

  constructor(readonly persistent: boolean) {
    this.dataDir = persistent ? mkdtempSync(join(tmpdir(), 'vue-realtime-model-')) : undefined
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

  async start(): Promise<void> {
    await this.startServer()
    this.proxy = await createFaultProxy({ target: { port: this.port } })
    for (const index of [0, 1]) this.views.push(this.mountView(index))
  }

  async startServer(): Promise<void> {
    const server = createRealtimeServer({
      host: '127.0.0.1',
      port: this.port,
      historyLimit: HISTORY_LIMIT,
      ...(this.dataDir ? { dataDir: this.dataDir } : {}),
    })
    server.on('error', (error) => this.serverErrors.push(error.message))
    await server.ready
    this.port = server.port
    const generation = this.persistent ? 0 : ++this.generation
    server.on('publish', (m) => {
      if (m.seq !== undefined) this.truth.set(`${generation}|${m.topic}|${m.seq}`, m.id)
    })
    this.server = server
  }

  async stopServer(): Promise<void> {
    const server = this.server
    this.server = null
    await server?.close({ code: 1012, timeout: 200 })
  }

  /** The server instances that stored `message` under its seq and id (empty: none did). */
  storedBy(message: ChannelMessage<Payload>): number[] {
    const found: number[] = []
    for (let g = this.persistent ? 0 : 1; g <= (this.persistent ? 0 : this.generation); g++) {
      if (this.truth.get(`${g}|${message.topic}|${message.seq}`) === message.id) found.push(g)
    }
    return found
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
    view.channel.publish(data, { id, ephemeral: options.ephemeral }).then(
      (ack) => {
        record.settled++
        record.outcome = { ack }
      },
      (error: Error & { code?: string }) => {
        record.settled++
        record.outcome = { error }
        const stayedOpen = wasOpen && connection.status === 'open' && this.closes.get(connection) === closes && this.blackholes === blackholes && !this.blackholed
        if (error.code === 'timeout' && stayedOpen) record.lostOnOpenLink = `${id} timed out on ${connection.key}, open and healthy throughout`
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
    await this.stopServer()
  }

  cleanupFiles(): void {
    if (this.dataDir) rmSync(this.dataDir, { recursive: true, force: true })
  }
}
