import type { FrameId, PresenceMember } from '../core/protocol'
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
import { engineInteger, idKey, LocalHub, newEpoch } from './engine-hub'
import { MEMORY_ENGINE_DEFAULTS } from './engine-memory'
import { bootId as machineBootId, closeFile, fileError, openFile, type Database } from './sqlite-file'

export interface SqliteEngineOptions {
  /**
   * The database file, created (with its folder) when missing. One server process at a time:
   * a second one on the same file is refused at start. Keep it on a local disk (network file
   * systems break SQLite's locks). Back up this file plus its `-wal` file when present.
   */
  path: string
  /**
   * `'full'`: each commit is fsynced before its publishes are acked: an acked message survives
   * a process crash, an OS crash and a power loss. `'normal'` (the fast mode): the WAL is
   * fsynced only at checkpoints: an acked message survives a process crash, but an OS crash or
   * a power loss may lose the last ones; topics then get new epochs, so no number is reused and
   * clients resync (`recovered: false`).
   * @default 'full'
   */
  synchronous?: 'full' | 'normal'
  /** Messages kept per topic for replay, on disk. Older ones are deleted. @default 1000 */
  historyLimit?: number
  /** Publish ids remembered per topic for dedupe (on disk, with their messages). @default 1000 */
  dedupeWindow?: number
  /** How long an ephemeral publish id is remembered, ms (in memory). 0 turns it off. @default 30_000 */
  ephemeralDedupeMs?: number
  /**
   * Topic positions (epoch and head) kept in memory, least recently used out first; others
   * are read from the file when needed. History is never held in memory.
   * @default 10_000
   */
  cacheTopics?: number
  /** SQLite's page cache, bytes (native memory, outside the JS heap). @default 16_777_216 (16 MiB) */
  cacheBytes?: number
  /**
   * How long to wait at start for another process to release the file (a restart whose old
   * process is still closing), ms; then start fails with an error naming the file.
   * @default 5_000
   */
  lockTimeout?: number
  /** Clock, epoch ms (tests). @default Date.now */
  now?: () => number
}

export const SQLITE_ENGINE_DEFAULTS = {
  synchronous: 'full',
  cacheTopics: 10_000,
  cacheBytes: 16 * 1024 * 1024,
  lockTimeout: 5_000,
} as const

/** What the server and tests may add: the machine's boot id (tests simulate an OS restart), a `dataDir` to import. */
export interface SqliteEnvironment {
  bootId: () => string
  /** A `dataDir` whose JSON-lines history (from before SQLite) is imported when the database is created. */
  importFrom?: string
}

/** A topic's row, as cached: the database is written by this process only, so the copy is the truth. */
interface TopicRow {
  readonly id: number
  readonly name: string
  readonly epoch: string
  head: number
}

interface MessageRow {
  seq: number
  id: string
  data: string
  sender: string
  user: string | null
  ts: number
}

type Write =
  | { kind: 'publish'; message: EnginePublish; user: string | null; resolve: (result: PublishResult) => void; reject: (error: Error) => void }
  | { kind: 'create'; topic: string; resolve: (result: { created: boolean }) => void; reject: (error: Error) => void }

type Outcome = { kind: 'publish'; result: PublishResult } | { kind: 'create'; created: boolean }

const checkInteger = (name: string, value: number | undefined, fallback: number, min: number): number =>
  engineInteger('sqliteEngine', name, value, fallback, min)

function frameId(key: string): FrameId {
  return key[0] === 'n' ? Number(key.slice(1)) : key.slice(1)
}

/**
 * The engine of one node that keeps history: SQLite (better-sqlite3, an optional peer) in WAL
 * mode. The publishes of one event-loop tick are one transaction (dedupe, head + 1, insert,
 * trim), acked and delivered after its commit. History and dedupe are read from the file by
 * index; memory holds only bounded caches, presence and the listeners. Epochs are per topic
 * and kept in the file: a new file gives new epochs, never reused numbers.
 */
export function sqliteEngine(options: SqliteEngineOptions): RealtimeEngine {
  return new SqliteEngine(options)
}

export class SqliteEngine implements RealtimeEngine {
  readonly name = 'sqlite'
  /** Committed write transactions (tests check the batching). */
  commits = 0
  private readonly path: string
  private readonly synchronous: 'full' | 'normal'
  private readonly historyLimit: number
  private readonly dedupeWindow: number
  private readonly keep: number
  private readonly cacheTopics: number
  private readonly cacheBytes: number
  private readonly lockTimeout: number
  private readonly hub: LocalHub
  /** Least recently used first (a Map iterates in insertion order). */
  private readonly cache = new Map<string, TopicRow>()
  private queue: Write[] = []
  private flushing: ReturnType<typeof setImmediate> | null = null
  private opening: Promise<void> | null = null
  private db: Database | null = null
  private statements: ReturnType<typeof prepareStatements> | null = null
  private runBatch: ((batch: Write[], staged: Map<string, TopicRow>) => Outcome[]) | null = null
  private closed = false
  /** Whether the last open renewed every epoch (the file was left open across an OS restart in 'normal' mode). */
  renewedEpochs = false

  constructor(
    options: SqliteEngineOptions,
    private readonly environment: SqliteEnvironment = { bootId: machineBootId },
  ) {
    if (typeof options?.path !== 'string' || options.path === '' || options.path === ':memory:') {
      throw new TypeError('[vue-realtime/server] sqliteEngine needs a file path (option "path"); for history in memory use memoryEngine().')
    }
    const synchronous = options.synchronous ?? SQLITE_ENGINE_DEFAULTS.synchronous
    if (synchronous !== 'full' && synchronous !== 'normal') {
      throw new TypeError(`[vue-realtime/server] sqliteEngine option "synchronous" must be 'full' or 'normal', got ${String(synchronous)}.`)
    }
    const d = MEMORY_ENGINE_DEFAULTS
    this.path = options.path
    this.synchronous = synchronous
    this.historyLimit = checkInteger('historyLimit', options.historyLimit, d.historyLimit, 0)
    this.dedupeWindow = checkInteger('dedupeWindow', options.dedupeWindow, d.dedupeWindow, 0)
    this.keep = Math.max(this.historyLimit, this.dedupeWindow)
    this.cacheTopics = checkInteger('cacheTopics', options.cacheTopics, SQLITE_ENGINE_DEFAULTS.cacheTopics, 1)
    this.cacheBytes = checkInteger('cacheBytes', options.cacheBytes, SQLITE_ENGINE_DEFAULTS.cacheBytes, 1024)
    this.lockTimeout = checkInteger('lockTimeout', options.lockTimeout, SQLITE_ENGINE_DEFAULTS.lockTimeout, 0)
    const ephemeralDedupeMs = checkInteger('ephemeralDedupeMs', options.ephemeralDedupeMs, d.ephemeralDedupeMs, 0)
    this.hub = new LocalHub(ephemeralDedupeMs, options.now ?? Date.now)
  }

  ready(): Promise<void> {
    this.opening ??= this.open()
    return this.opening
  }

  private async open(): Promise<void> {
    if (this.closed) throw this.closedError()
    const settings = { synchronous: this.synchronous, cacheBytes: this.cacheBytes, lockTimeout: this.lockTimeout, keep: this.keep, boot: this.environment.bootId(), importFrom: this.environment.importFrom }
    const { db, renewedEpochs } = await openFile(this.path, settings)
    if (this.closed) {
      closeFile(db)
      throw this.closedError()
    }
    this.db = db
    this.renewedEpochs = renewedEpochs
    this.statements = prepareStatements(db)
    this.runBatch = db.transaction((batch: Write[], staged: Map<string, TopicRow>) => this.apply(batch, staged))
  }

  /** The open database; opens it on first use. */
  private async database(): Promise<Database> {
    if (this.closed) throw this.closedError()
    if (!this.db) await this.ready()
    if (this.closed) throw this.closedError()
    return this.db!
  }

  private closedError(): Error {
    return new Error('[vue-realtime/server] sqliteEngine is closed; create a new one.')
  }

  async publish(message: EnginePublish): Promise<PublishResult> {
    await this.database()
    // Encoded before the batch, so one bad value fails its own publish and not the others of its tick.
    let user: string | null = null
    try {
      if (message.user !== undefined) user = JSON.stringify(message.user)
    } catch (error) {
      throw new TypeError(`[vue-realtime/server] sqliteEngine: the publisher's user must be JSON-serialisable: ${(error as Error).message}`)
    }
    return new Promise((resolve, reject) => this.enqueue({ kind: 'publish', message, user, resolve, reject }))
  }

  private enqueue(write: Write): void {
    this.queue.push(write)
    // Everything queued during this turn of the event loop is one transaction (one fsync).
    this.flushing ??= setImmediate(() => this.flush())
  }

  private flush(): void {
    this.flushing = null
    const batch = this.queue
    this.queue = []
    if (batch.length === 0) return
    const staged = new Map<string, TopicRow>()
    let outcomes: Outcome[]
    try {
      outcomes = this.runBatch!(batch, staged)
    } catch (error) {
      // Rolled back: nothing of the batch is stored, acked or delivered; a retry with the same id is safe.
      const failure = fileError(error, this.path, 'write to')
      for (const write of batch) write.reject(failure)
      return
    }
    this.commits++
    for (const row of staged.values()) this.remember(row)
    // Acks and deliveries only now that the commit is durable, in commit order.
    for (const [i, write] of batch.entries()) {
      const outcome = outcomes[i]
      if (write.kind === 'create' && outcome.kind === 'create') write.resolve({ created: outcome.created })
      else if (write.kind === 'publish' && outcome.kind === 'publish') {
        if (!outcome.result.duplicate) this.hub.emit(outcome.result.message.topic, { type: 'message', message: outcome.result.message })
        write.resolve(outcome.result)
      }
    }
  }

  /** One write transaction: runs inside `db.transaction`, so a throw rolls every write of the batch back. */
  private apply(batch: Write[], staged: Map<string, TopicRow>): Outcome[] {
    const s = this.statements!
    const outcomes: Outcome[] = []
    const heads = new Map<TopicRow, number>()
    const topicOf = (name: string): { row: TopicRow; created: boolean } => {
      const known = staged.get(name) ?? this.find(name)
      if (known) {
        const row = staged.get(name) ?? { ...known }
        staged.set(name, row)
        return { row, created: false }
      }
      const epoch = newEpoch()
      const id = Number(s.insertTopic.run(name, epoch).lastInsertRowid)
      const row: TopicRow = { id, name, epoch, head: 0 }
      staged.set(name, row)
      return { row, created: true }
    }
    for (const write of batch) {
      if (write.kind === 'create') {
        outcomes.push({ kind: 'create', created: topicOf(write.topic).created })
        continue
      }
      const input = write.message
      const { row, created } = topicOf(input.topic)
      const key = idKey(input.id)
      const original = this.dedupeWindow > 0 ? (s.findById.get(row.id, key, row.head - this.dedupeWindow) as MessageRow | undefined) : undefined
      if (original) {
        const message = this.toMessage(row, original)
        outcomes.push({ kind: 'publish', result: { epoch: row.epoch, seq: original.seq, duplicate: true, message, created } })
        continue
      }
      const message: EngineMessage = { ...input, epoch: row.epoch, seq: row.head + 1 }
      if (this.keep > 0) s.insertMessage.run(row.id, message.seq, key, message.data, message.from, write.user, message.ts)
      row.head = message.seq
      heads.set(row, row.head)
      outcomes.push({ kind: 'publish', result: { epoch: row.epoch, seq: message.seq, duplicate: false, message, created } })
    }
    for (const [row, head] of heads) {
      s.setHead.run(head, row.id)
      if (head > this.keep) s.trim.run(row.id, head - this.keep)
    }
    return outcomes
  }

  /** A topic's row from the cache or the file (then cached); undefined when the engine holds none. */
  private find(name: string): TopicRow | undefined {
    const cached = this.cache.get(name)
    if (cached) {
      this.cache.delete(name)
      this.cache.set(name, cached)
      return cached
    }
    const stored = this.statements!.findTopic.get(name) as Omit<TopicRow, 'name'> | undefined
    if (!stored) return undefined
    const row: TopicRow = { id: stored.id, name, epoch: stored.epoch, head: stored.head }
    this.remember(row)
    return row
  }

  private remember(row: TopicRow): void {
    this.cache.delete(row.name)
    this.cache.set(row.name, row)
    if (this.cache.size > this.cacheTopics) this.cache.delete(this.cache.keys().next().value as string)
  }

  private toMessage(row: TopicRow, stored: MessageRow): EngineMessage {
    const message: EngineMessage = { topic: row.name, epoch: row.epoch, seq: stored.seq, id: frameId(stored.id), data: stored.data, from: stored.sender, ts: stored.ts }
    if (stored.user !== null) message.user = JSON.parse(stored.user)
    return message
  }

  async broadcast(message: EnginePublish): Promise<BroadcastResult> {
    await this.database()
    return this.hub.broadcast(message)
  }

  async history(topic: string, query: HistoryQuery): Promise<HistoryResult> {
    await this.database()
    let created = false
    if (!this.read(() => this.find(topic))) {
      created = (await new Promise<{ created: boolean }>((resolve, reject) => this.enqueue({ kind: 'create', topic, resolve, reject }))).created
      if (this.closed) throw this.closedError()
    }
    // From here on synchronous: the head and the rows are one committed state.
    return this.read(() => this.range(this.find(topic)!, query, created))
  }

  private range(row: TopicRow, query: HistoryQuery, created: boolean): HistoryResult {
    const result: HistoryResult = { epoch: row.epoch, head: row.head, messages: [], created }
    if (query.limit <= 0 || (query.epoch !== undefined && query.epoch !== row.epoch)) return result
    const after = Math.max(query.since ?? 0, row.head - this.historyLimit)
    if (after >= row.head) return result
    const newestFirst: EngineMessage[] = []
    let bytes = 0
    for (const stored of this.statements!.range.iterate(row.id, after, query.limit) as IterableIterator<MessageRow>) {
      if (query.maxBytes !== undefined && bytes + stored.data.length > query.maxBytes) break
      bytes += stored.data.length
      newestFirst.push(this.toMessage(row, stored))
    }
    result.messages = newestFirst.reverse()
    return result
  }

  /** A read of the file, its failures (a damaged page) named with the file and the fix. */
  private read<T>(read: () => T): T {
    try {
      return read()
    } catch (error) {
      throw fileError(error, this.path, 'read')
    }
  }

  async exists(topic: string): Promise<boolean> {
    await this.database()
    return this.read(() => this.find(topic)) !== undefined
  }

  async subscribe(topic: string, listener: EngineListener): Promise<EngineUnsubscribe> {
    await this.database()
    return this.hub.subscribe(topic, listener)
  }

  async announce(topic: string, event: PresenceEvent, member: PresenceMember): Promise<void> {
    await this.database()
    this.hub.announce(topic, event, member)
  }

  async members(topic: string): Promise<PresenceMember[]> {
    await this.database()
    return this.hub.members(topic)
  }

  async topics(): Promise<string[]> {
    await this.database()
    return this.read(() => this.statements!.names.all() as string[])
  }

  /** Commits what is queued, then closes the file (checkpointed: the WAL is folded in and removed). */
  async close(): Promise<void> {
    if (this.closed) return
    await this.opening?.catch(() => {})
    if (this.flushing) clearImmediate(this.flushing)
    this.flush()
    this.closed = true
    this.hub.clear()
    this.cache.clear()
    const db = this.db
    this.db = null
    this.statements = null
    this.runBatch = null
    if (db) {
      try {
        closeFile(db)
      } catch (error) {
        throw fileError(error, this.path, 'close')
      }
    }
  }
}

function prepareStatements(db: Database) {
  return {
    findTopic: db.prepare('SELECT id, epoch, head FROM topics WHERE name = ?'),
    insertTopic: db.prepare('INSERT INTO topics (name, epoch, head) VALUES (?, ?, 0)'),
    setHead: db.prepare('UPDATE topics SET head = ? WHERE id = ?'),
    names: db.prepare('SELECT name FROM topics').pluck(),
    findById: db.prepare('SELECT seq, id, data, sender, user, ts FROM messages WHERE topic = ? AND id = ? AND seq > ? ORDER BY seq DESC LIMIT 1'),
    insertMessage: db.prepare('INSERT INTO messages (topic, seq, id, data, sender, user, ts) VALUES (?, ?, ?, ?, ?, ?, ?)'),
    trim: db.prepare('DELETE FROM messages WHERE topic = ? AND seq <= ?'),
    range: db.prepare('SELECT seq, id, data, sender, user, ts FROM messages WHERE topic = ? AND seq > ? ORDER BY seq DESC LIMIT ?'),
  }
}
