import type { PresenceMember } from '../core/protocol'
import type {
  BroadcastResult,
  EngineListener,
  EngineMessage,
  EnginePublish,
  EngineUnsubscribe,
  HistoryQuery,
  HistoryResult,
  PresenceEvent,
  PublishResult,
  RealtimeEngine,
} from './engine'
import { engineInteger, idKey, newEpoch } from './engine-hub'
import { ephemeralPayload, fromEntry, fromHeader, header, RedisKeys, type StreamEntry } from './redis/codec'
import { RedisConnection, type RedisEngineClient } from './redis/connection'
import { TopicFeeds } from './redis/feeds'
import { NodePresence } from './redis/presence'
import { SCRIPTS } from './redis/scripts'

export type { RedisEngineClient } from './redis/connection'

export interface RedisEngineSettings {
  /** Prefix of every key and channel, so several apps (or test runs) can share one Redis. @default 'vue-realtime:' */
  prefix?: string
  /** Messages kept per topic for replay: the stream's MAXLEN (with the dedupe window). @default 1000 */
  historyLimit?: number
  /**
   * Publish ids remembered per topic for dedupe, whether or not the topic has subscribers: the
   * newest `dedupeWindow` ids, each for at most `dedupeTtlMs`. The stream keeps the messages they
   * name, so a duplicate returns the original. 0 turns dedupe off.
   * @default 1000
   */
  dedupeWindow?: number
  /** How long a publish id is remembered at most, ms (its key's TTL). @default 86_400_000 (24 h) */
  dedupeTtlMs?: number
  /**
   * A topic nobody publishes to or reads for this long is forgotten, ms: its history and
   * numbering expire, and it comes back with a new epoch. 0 keeps topics until Redis loses them.
   * @default 604_800_000 (7 days)
   */
  topicTtlMs?: number
  /** How long an ephemeral publish id is remembered, ms (a resent typing event is not shown twice). 0 turns it off. @default 30_000 */
  ephemeralDedupeMs?: number
  /**
   * A node that has not renewed its registration for this long is dead: every other node removes
   * its presence members (a `leave` for each). Renewed every third of it. @default 15_000
   */
  nodeTtlMs?: number
  /** `ready()` fails when Redis cannot be reached within this long, ms. @default 10_000 */
  connectTimeout?: number
}

/** Where Redis is: a `url` (the engine makes and closes its clients) or a node-redis `client` (yours to close). */
export type RedisEngineOptions = RedisEngineSettings &
  (
    | {
        /** `redis[s]://[[user][:password]@]host[:port][/db]`; the engine connects with node-redis (`redis`, an optional peer). */
        url: string
        client?: undefined
      }
    | {
        /** A node-redis client (`createClient()` from `redis`); connected by the engine if it is not yet. Yours to close after the engine. */
        client: RedisEngineClient
        url?: undefined
      }
  )

export const REDIS_ENGINE_DEFAULTS = {
  prefix: 'vue-realtime:',
  historyLimit: 1000,
  dedupeWindow: 1000,
  dedupeTtlMs: 24 * 60 * 60 * 1000,
  topicTtlMs: 7 * 24 * 60 * 60 * 1000,
  ephemeralDedupeMs: 30_000,
  nodeTtlMs: 15_000,
  connectTimeout: 10_000,
} as const

const integer = (name: string, value: number | undefined, fallback: number, min: number): number =>
  engineInteger('redisEngine', name, value, fallback, min)

/**
 * The engine for several server processes on one Redis: per topic a meta hash (epoch, head), a
 * capped stream of the held messages and one key per remembered publish id; one Lua script per
 * publish dedupes, numbers, appends and publishes to the topic's channel. Each node subscribes
 * once per topic it serves and fills any hole from the stream, so a lost pub/sub message is
 * late, never missing. Presence lives in Redis and expires with its node.
 *
 * Redis must not evict keys (`maxmemory-policy noeviction`), and should run without persistence
 * or with `appendfsync always`: a Redis that restarts with older data would hand out numbers
 * again. A Redis that lost a topic gives it a new epoch.
 */
export function redisEngine(options: RedisEngineOptions): RealtimeEngine {
  return new RedisEngine(options)
}

class RedisEngine implements RealtimeEngine {
  readonly name = 'redis'
  private readonly keys: RedisKeys
  private readonly historyLimit: number
  private readonly dedupeWindow: number
  private readonly dedupeTtlMs: number
  private readonly topicTtlMs: number
  private readonly ephemeralDedupeMs: number
  /** Stream entries kept per topic: enough for both replay and dedupe. */
  private readonly keep: number
  private readonly redis: RedisConnection
  private readonly feeds: TopicFeeds
  private readonly presence: NodePresence
  private opening: Promise<void> | null = null
  private closed = false

  constructor(options: RedisEngineOptions) {
    const d = REDIS_ENGINE_DEFAULTS
    if (!options || (typeof options.url !== 'string') === !options.client) {
      throw new TypeError('[vue-realtime/server] redisEngine needs exactly one of "url" (e.g. "redis://127.0.0.1:6379") or "client" (a node-redis client).')
    }
    const prefix = options.prefix ?? d.prefix
    if (typeof prefix !== 'string') throw new TypeError(`[vue-realtime/server] redisEngine option "prefix" must be a string, got ${String(prefix)}.`)
    this.keys = new RedisKeys(prefix)
    this.historyLimit = integer('historyLimit', options.historyLimit, d.historyLimit, 0)
    this.dedupeWindow = integer('dedupeWindow', options.dedupeWindow, d.dedupeWindow, 0)
    this.dedupeTtlMs = integer('dedupeTtlMs', options.dedupeTtlMs, d.dedupeTtlMs, 1)
    this.topicTtlMs = integer('topicTtlMs', options.topicTtlMs, d.topicTtlMs, 0)
    this.ephemeralDedupeMs = integer('ephemeralDedupeMs', options.ephemeralDedupeMs, d.ephemeralDedupeMs, 0)
    const nodeTtlMs = integer('nodeTtlMs', options.nodeTtlMs, d.nodeTtlMs, 3)
    const connectTimeout = integer('connectTimeout', options.connectTimeout, d.connectTimeout, 1)
    // XADD MAXLEN 0 would keep nothing; one entry is the least a stream holds.
    this.keep = Math.max(this.historyLimit, this.dedupeWindow, 1)
    this.redis = new RedisConnection(
      { url: options.url, client: options.client, connectTimeout },
      () => this.feeds.resubscribed(),
      () => this.presence.reconnected(),
    )
    this.feeds = new TopicFeeds(this.redis, this.keys, this.keep, (topic) => this.presence.members(topic))
    this.presence = new NodePresence(this.redis, this.keys, nodeTtlMs, (error, what) => console.error(`[vue-realtime/server] redisEngine: ${what}: ${String((error as Error)?.message ?? error)}`))
  }

  ready(): Promise<void> {
    this.opening ??= (async () => {
      this.check()
      await this.redis.open()
      await this.presence.start()
    })()
    return this.opening
  }

  private async use(): Promise<void> {
    this.check()
    await this.ready()
  }

  async publish(input: EnginePublish): Promise<PublishResult> {
    await this.use()
    const { topic } = input
    const id = idKey(input.id)
    const ids = this.keys.ids(topic)
    const reply = (await this.redis.run(
      SCRIPTS.publish,
      [this.keys.meta(topic), this.keys.stream(topic), ids + id],
      [newEpoch(), ids, id, header(input), input.data, this.keep, this.dedupeWindow, this.dedupeTtlMs, this.topicTtlMs, this.keys.channel(topic)],
    )) as [number, string, number, number, string?, string?]
    const [duplicate, epoch, seq, created] = reply
    if (duplicate === 1) {
      const message = fromHeader(topic, epoch, seq, reply[4] ?? '{}', reply[5] ?? 'null')
      return { epoch, seq, duplicate: true, message, created: false }
    }
    const message: EngineMessage = { ...input, epoch, seq }
    return { epoch, seq, duplicate: false, message, created: created === 1 }
  }

  async broadcast(message: EnginePublish): Promise<BroadcastResult> {
    await this.use()
    const { topic } = message
    const reply = await this.redis.run(SCRIPTS.broadcast, [this.keys.ephemeral(topic, idKey(message.id))], [this.ephemeralDedupeMs, this.keys.channel(topic), ephemeralPayload(message)])
    return { duplicate: reply === 1 }
  }

  async history(topic: string, query: HistoryQuery): Promise<HistoryResult> {
    await this.use()
    const reply = (await this.redis.run(
      SCRIPTS.history,
      [this.keys.meta(topic), this.keys.stream(topic)],
      [newEpoch(), query.epoch ?? '', query.since ?? 0, query.limit, this.historyLimit, this.topicTtlMs],
    )) as [string, number, number, StreamEntry[]]
    const [epoch, head, created, entries] = reply
    let messages = entries.map((entry) => fromEntry(topic, epoch, entry))
    if (query.maxBytes !== undefined) {
      // The newest that fit, as the memory engine cuts.
      let from = messages.length
      let total = 0
      while (from > 0 && total + messages[from - 1].data.length <= query.maxBytes) total += messages[--from].data.length
      if (from > 0) messages = messages.slice(from)
    }
    return { epoch, head, messages, created: created === 1 }
  }

  async exists(topic: string): Promise<boolean> {
    await this.use()
    return (await this.redis.command(['EXISTS', this.keys.meta(topic)])) === 1
  }

  async subscribe(topic: string, listener: EngineListener): Promise<EngineUnsubscribe> {
    await this.use()
    return this.feeds.subscribe(topic, listener)
  }

  async announce(topic: string, event: PresenceEvent, member: PresenceMember): Promise<void> {
    await this.use()
    await this.presence.announce(topic, event, member)
  }

  async members(topic: string): Promise<PresenceMember[]> {
    await this.use()
    return this.presence.members(topic)
  }

  async topics(): Promise<string[]> {
    await this.use()
    const found = new Set<string>()
    let cursor = '0'
    do {
      const [next, keys] = (await this.redis.command(['SCAN', cursor, 'MATCH', this.keys.metaPattern(), 'COUNT', '1000'])) as [string, string[]]
      for (const key of keys) {
        const topic = this.keys.topicOfMeta(key)
        if (topic !== null) found.add(topic)
      }
      cursor = String(next)
    } while (cursor !== '0')
    return [...found]
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.opening?.catch(() => {})
    await this.feeds.close()
    await this.presence.stop()
    await this.redis.close()
  }

  private check(): void {
    if (this.closed) throw new Error('[vue-realtime/server] redisEngine is closed; create a new one.')
  }
}
