import { randomBytes } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
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
import { idKey, LocalHub } from './engine-hub'
import { MEMORY_ENGINE_DEFAULTS } from './engine-memory'
import type { StoredMessage } from './store'
import { JsonlStore } from './store-jsonl'

export interface JsonlEngineOptions {
  /** @default 1000 */
  historyLimit?: number
  /** @default 1000 */
  dedupeWindow?: number
  /** @default 30_000 */
  ephemeralDedupeMs?: number
  now?: () => number
}

const EPOCH_FILE = 'epoch'

interface TopicState {
  head: number
  /** Dedupe window: id key → the stored message, oldest first. */
  readonly ids: Map<string, EngineMessage>
  /** Publishes of the topic run one after the other on this chain (the append is async). */
  tail: Promise<unknown>
}

/**
 * What `dataDir` means until `sqliteEngine` replaces it: the JSON-lines store (one file,
 * history in memory) behind the engine interface, for one process. One epoch per data folder,
 * kept in `<dataDir>/epoch`. Internal: not exported, it goes away with the SQLite engine.
 */
export function jsonlEngine(dir: string, options: JsonlEngineOptions = {}): RealtimeEngine {
  return new JsonlEngine(dir, options)
}

class JsonlEngine implements RealtimeEngine {
  readonly name = 'jsonl'
  private readonly store: JsonlStore
  private readonly hub: LocalHub
  private readonly dedupeWindow: number
  private readonly states = new Map<string, TopicState>()
  private epoch = ''
  private loading: Promise<void> | null = null

  constructor(
    private readonly dir: string,
    options: JsonlEngineOptions,
  ) {
    const d = MEMORY_ENGINE_DEFAULTS
    this.store = new JsonlStore(dir, { historyLimit: options.historyLimit ?? d.historyLimit })
    this.dedupeWindow = Math.max(0, options.dedupeWindow ?? d.dedupeWindow)
    this.hub = new LocalHub(options.ephemeralDedupeMs ?? d.ephemeralDedupeMs, options.now ?? Date.now)
  }

  ready(): Promise<void> {
    this.loading ??= (async () => {
      await this.store.load()
      const file = join(this.dir, EPOCH_FILE)
      const saved = await readFile(file, 'utf8').catch(() => '')
      this.epoch = saved.trim() || randomBytes(9).toString('base64url')
      if (!saved.trim()) await writeFile(file, this.epoch + '\n')
    })()
    return this.loading
  }

  private toEngine(message: StoredMessage): EngineMessage {
    const out: EngineMessage = { topic: message.topic, epoch: this.epoch, seq: message.seq, id: message.id, data: JSON.stringify(message.data), from: message.from, ts: message.ts }
    if (message.user !== undefined) out.user = message.user
    return out
  }

  /** The topic's head and dedupe window, loaded from the store once and then kept. */
  private state(topic: string): { state: TopicState; created: boolean } {
    let state = this.states.get(topic)
    if (state) return { state, created: false }
    const head = this.store.head(topic)
    state = { head, ids: new Map(), tail: Promise.resolve() }
    if (this.dedupeWindow > 0 && head > 0) {
      for (const m of this.store.since(topic, Math.max(0, head - this.dedupeWindow), this.dedupeWindow)) {
        state.ids.set(idKey(m.id), this.toEngine(m))
      }
    }
    this.states.set(topic, state)
    return { state, created: head === 0 }
  }

  async publish(input: EnginePublish): Promise<PublishResult> {
    await this.ready()
    const { state, created } = this.state(input.topic)
    const run = state.tail.then(async (): Promise<PublishResult> => {
      const original = state.ids.get(idKey(input.id))
      if (original) return { epoch: original.epoch, seq: original.seq, duplicate: true, message: original, created }
      const message: EngineMessage = { ...input, epoch: this.epoch, seq: state.head + 1 }
      const stored: StoredMessage = { topic: message.topic, seq: message.seq, id: message.id, data: JSON.parse(message.data), from: message.from, ts: message.ts }
      if (message.user !== undefined) stored.user = message.user
      await this.store.append(stored)
      state.head = message.seq
      if (this.dedupeWindow > 0) {
        state.ids.set(idKey(message.id), message)
        if (state.ids.size > this.dedupeWindow) state.ids.delete(state.ids.keys().next().value as string)
      }
      this.hub.emit(message.topic, { type: 'message', message })
      return { epoch: message.epoch, seq: message.seq, duplicate: false, message, created }
    })
    state.tail = run.catch(() => {})
    return run
  }

  async broadcast(message: EnginePublish): Promise<BroadcastResult> {
    await this.ready()
    return this.hub.broadcast(message)
  }

  async history(topic: string, query: HistoryQuery): Promise<HistoryResult> {
    await this.ready()
    const { created } = this.state(topic)
    // Read from the store alone: its head and its messages change together, when a write lands.
    const head = this.store.head(topic)
    const result: HistoryResult = { epoch: this.epoch, head, messages: [], created }
    if (query.limit <= 0 || (query.epoch !== undefined && query.epoch !== this.epoch)) return result
    const after = Math.max(query.since ?? 0, head - query.limit)
    let messages = this.store.since(topic, after, query.limit).map((m) => this.toEngine(m))
    if (query.maxBytes !== undefined) {
      let total = 0
      let i = messages.length
      while (i > 0 && total + messages[i - 1].data.length <= query.maxBytes) total += messages[--i].data.length
      messages = messages.slice(i)
    }
    result.messages = messages
    return result
  }

  async exists(topic: string): Promise<boolean> {
    await this.ready()
    return this.states.has(topic) || this.store.head(topic) > 0
  }

  async subscribe(topic: string, listener: EngineListener): Promise<EngineUnsubscribe> {
    await this.ready()
    return this.hub.subscribe(topic, listener)
  }

  async announce(topic: string, event: PresenceEvent, member: PresenceMember): Promise<void> {
    this.hub.announce(topic, event, member)
  }

  async members(topic: string): Promise<PresenceMember[]> {
    return this.hub.members(topic)
  }

  async topics(): Promise<string[]> {
    await this.ready()
    return [...new Set([...this.store.topics(), ...this.states.keys()])]
  }

  async close(): Promise<void> {
    await Promise.all([...this.states.values()].map((s) => s.tail))
    this.hub.clear()
    this.states.clear()
    if (this.loading) await this.store.close()
    this.loading = null
  }
}
