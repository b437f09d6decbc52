import { ErrorCode, type PresenceMember } from '../core/protocol'
import {
  EngineError,
  type BroadcastResult,
  type EngineListener,
  type EngineMessage,
  type EnginePublish,
  type EngineUnsubscribe,
  type HistoryQuery,
  type HistoryResult,
  type PresenceEvent,
  type PublishResult,
  type RealtimeEngine,
} from './engine'
import { engineInteger, idKey, LocalHub, newEpoch } from './engine-hub'

export interface MemoryEngineOptions {
  /** Messages kept per topic for replay. @default 1000 */
  historyLimit?: number
  /**
   * Publish ids remembered per topic for dedupe, whether or not the topic has subscribers. The
   * messages they name are kept (and counted in `maxBytes`) so a duplicate returns the original.
   * @default 1000
   */
  dedupeWindow?: number
  /**
   * Topics held at most. Past it, the least recently used topic without subscribers is evicted
   * (its history and numbering are gone: it comes back with a new epoch); when every held topic
   * has subscribers, creating one more fails with `server_full`.
   * @default 10_000
   */
  maxTopics?: number
  /**
   * Bytes held for history and dedupe at most: the UTF-8 size of each payload and id plus a
   * fixed estimate per message and per topic. Past it, idle topics are evicted least recently
   * used first, then the oldest messages of topics with subscribers are trimmed (their live
   * stream is untouched; a replay reaching that far answers `recovered: false`).
   * @default 67_108_864 (64 MiB)
   */
  maxBytes?: number
  /** How long an ephemeral publish id is remembered, ms (a resent typing event is not shown twice). 0 turns it off. @default 30_000 */
  ephemeralDedupeMs?: number
  /** Clock, epoch ms (tests). @default Date.now */
  now?: () => number
}

export const MEMORY_ENGINE_DEFAULTS = {
  historyLimit: 1000,
  dedupeWindow: 1000,
  maxTopics: 10_000,
  maxBytes: 64 * 1024 * 1024,
  ephemeralDedupeMs: 30_000,
} as const

/**
 * Heap bytes of one held message besides its payload and id (the message object, its slots
 * in the log and size arrays, its dedupe map entry), measured on Node 20 and rounded up so
 * `maxBytes` bounds the heap and not only the payloads (test/server/memory.test.ts).
 */
const MESSAGE_OVERHEAD = 576
/** Heap bytes of one held topic besides its messages (the record, its map and arrays, name, epoch, LRU entries), measured likewise. */
const TOPIC_OVERHEAD = 1024

interface HeldTopic {
  readonly name: string
  readonly epoch: string
  head: number
  /** Held messages, oldest first from `start`; seqs are contiguous, so positions are computed. */
  log: EngineMessage[]
  /** Accounted bytes of `log[i]`. */
  sizes: number[]
  start: number
  /** Dedupe window: id key → the message stored under it. */
  readonly ids: Map<string, EngineMessage>
  bytes: number
}

const positiveInteger = (name: string, value: number | undefined, fallback: number, min = 1): number =>
  engineInteger('memoryEngine', name, value, fallback, min)

/**
 * The engine of one process: history, dedupe, epochs and presence in memory, bounded by
 * `maxTopics` and `maxBytes`. Several servers in one process may share one instance: they act
 * as nodes of one cluster (tests do). Lost on restart: every topic then gets a new epoch.
 */
export function memoryEngine(options: MemoryEngineOptions = {}): RealtimeEngine {
  return new MemoryEngine(options)
}

class MemoryEngine implements RealtimeEngine {
  readonly name = 'memory'
  private readonly historyLimit: number
  private readonly dedupeWindow: number
  private readonly maxTopics: number
  private readonly maxBytes: number
  /** Messages a topic keeps: enough for both replay and dedupe. */
  private readonly keep: number
  private readonly topicsHeld = new Map<string, HeldTopic>()
  /** Topics without listeners, least recently used first (a Map iterates in insertion order). */
  private readonly idle = new Map<string, HeldTopic>()
  private readonly hub: LocalHub
  private bytes = 0
  private closed = false

  constructor(options: MemoryEngineOptions) {
    const d = MEMORY_ENGINE_DEFAULTS
    this.historyLimit = positiveInteger('historyLimit', options.historyLimit, d.historyLimit, 0)
    this.dedupeWindow = positiveInteger('dedupeWindow', options.dedupeWindow, d.dedupeWindow, 0)
    this.maxTopics = positiveInteger('maxTopics', options.maxTopics, d.maxTopics)
    this.maxBytes = positiveInteger('maxBytes', options.maxBytes, d.maxBytes)
    const ephemeralDedupeMs = positiveInteger('ephemeralDedupeMs', options.ephemeralDedupeMs, d.ephemeralDedupeMs, 0)
    this.keep = Math.max(this.historyLimit, this.dedupeWindow)
    this.hub = new LocalHub(ephemeralDedupeMs, options.now ?? Date.now, (topic, listening) => {
      const held = this.topicsHeld.get(topic)
      if (!held) return
      // A topic with subscribers is pinned; it becomes evictable (as the most recent) when they leave.
      if (listening) this.idle.delete(topic)
      else this.idle.set(topic, held)
    })
  }

  async ready(): Promise<void> {
    this.check()
  }

  async publish(input: EnginePublish): Promise<PublishResult> {
    this.check()
    let topic = this.topicsHeld.get(input.topic)
    const created = !topic
    if (topic) this.touch(topic)
    else topic = this.create(input.topic)
    const original = this.dedupeWindow > 0 ? topic.ids.get(idKey(input.id)) : undefined
    if (original) return { epoch: original.epoch, seq: original.seq, duplicate: true, message: original, created }
    const message: EngineMessage = { ...input, epoch: topic.epoch, seq: topic.head + 1 }
    this.append(topic, message)
    this.reclaim(topic)
    this.hub.emit(topic.name, { type: 'message', message })
    return { epoch: message.epoch, seq: message.seq, duplicate: false, message, created }
  }

  async broadcast(message: EnginePublish): Promise<BroadcastResult> {
    this.check()
    return this.hub.broadcast(message)
  }

  async history(name: string, query: HistoryQuery): Promise<HistoryResult> {
    this.check()
    let topic = this.topicsHeld.get(name)
    const created = !topic
    if (topic) this.touch(topic)
    else topic = this.create(name)
    const result: HistoryResult = { epoch: topic.epoch, head: topic.head, messages: [], created }
    if (query.limit <= 0 || (query.epoch !== undefined && query.epoch !== topic.epoch)) return result
    const { log } = topic
    const end = log.length
    // log[end - 1] holds seq `head`, and seqs are contiguous, so every bound is an index.
    let from = Math.max(topic.start, end - this.historyLimit, end - (topic.head - (query.since ?? 0)), end - query.limit)
    if (query.maxBytes !== undefined) {
      let i = end
      let total = 0
      while (i > from && total + log[i - 1].data.length <= query.maxBytes) total += log[--i].data.length
      from = i
    }
    if (from < end) result.messages = log.slice(from, end)
    return result
  }

  async exists(topic: string): Promise<boolean> {
    this.check()
    return this.topicsHeld.has(topic)
  }

  async subscribe(topic: string, listener: EngineListener): Promise<EngineUnsubscribe> {
    this.check()
    return this.hub.subscribe(topic, listener)
  }

  async announce(topic: string, event: PresenceEvent, member: PresenceMember): Promise<void> {
    this.check()
    this.hub.announce(topic, event, member)
  }

  async members(topic: string): Promise<PresenceMember[]> {
    this.check()
    return this.hub.members(topic)
  }

  async topics(): Promise<string[]> {
    this.check()
    return [...this.topicsHeld.keys()]
  }

  async close(): Promise<void> {
    this.closed = true
    this.topicsHeld.clear()
    this.idle.clear()
    this.hub.clear()
    this.bytes = 0
  }

  private check(): void {
    if (this.closed) throw new Error('[vue-realtime/server] memoryEngine is closed; create a new one.')
  }

  private touch(topic: HeldTopic): void {
    if (this.idle.delete(topic.name)) this.idle.set(topic.name, topic)
  }

  private create(name: string): HeldTopic {
    if (this.topicsHeld.size >= this.maxTopics && !this.evictOne(null)) {
      throw new EngineError(ErrorCode.ServerFull, `The server holds its maximum of ${this.maxTopics} topics and all have subscribers; retry later.`)
    }
    const topic: HeldTopic = { name, epoch: newEpoch(), head: 0, log: [], sizes: [], start: 0, ids: new Map(), bytes: TOPIC_OVERHEAD + name.length }
    this.topicsHeld.set(name, topic)
    if (!this.hub.listening(name)) this.idle.set(name, topic)
    this.bytes += topic.bytes
    this.reclaim(topic)
    return topic
  }

  private append(topic: HeldTopic, message: EngineMessage): void {
    const key = idKey(message.id)
    const size = Buffer.byteLength(message.data) + 2 * key.length + MESSAGE_OVERHEAD
    topic.log.push(message)
    topic.sizes.push(size)
    topic.head = message.seq
    topic.bytes += size
    this.bytes += size
    if (this.dedupeWindow > 0) {
      topic.ids.set(key, message)
      // The message that just left the window (the log always holds at least the window).
      const leaving = topic.log.length - 1 - this.dedupeWindow
      if (leaving >= topic.start) this.forget(topic, topic.log[leaving])
    }
    if (topic.log.length - topic.start > this.keep) this.dropOldest(topic)
  }

  private forget(topic: HeldTopic, message: EngineMessage): void {
    const key = idKey(message.id)
    if (topic.ids.get(key) === message) topic.ids.delete(key)
  }

  private dropOldest(topic: HeldTopic): void {
    const i = topic.start
    this.forget(topic, topic.log[i])
    topic.bytes -= topic.sizes[i]
    this.bytes -= topic.sizes[i]
    topic.start++
    // Compact once the dead prefix is as long as the live part: appends stay O(1) amortised.
    if (topic.start >= 64 && topic.start * 2 >= topic.log.length) {
      topic.log = topic.log.slice(topic.start)
      topic.sizes = topic.sizes.slice(topic.start)
      topic.start = 0
    }
  }

  /** Evicts the least recently used idle topic other than `except`; false when there is none. */
  private evictOne(except: HeldTopic | null): boolean {
    for (const topic of this.idle.values()) {
      if (topic === except) continue
      this.idle.delete(topic.name)
      this.topicsHeld.delete(topic.name)
      this.bytes -= topic.bytes
      return true
    }
    return false
  }

  /** Brings the held bytes under `maxBytes`: idle topics first, then the oldest messages of the rest. */
  private reclaim(current: HeldTopic): void {
    while (this.bytes > this.maxBytes && this.evictOne(current)) {
      // evicted one
    }
    while (this.bytes > this.maxBytes) {
      let trimmed = false
      for (const topic of this.topicsHeld.values()) {
        if (topic.start >= topic.log.length) continue
        this.dropOldest(topic)
        trimmed = true
        if (this.bytes <= this.maxBytes) return
      }
      if (!trimmed) return // only topic records left: nothing more to give back
    }
  }
}
