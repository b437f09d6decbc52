import type { HistoryStore, StoredMessage } from './store'

/** Default number of messages kept per topic. */
export const DEFAULT_HISTORY_LIMIT = 1000

export interface MemoryStoreOptions {
  /** Messages kept per topic; older ones are dropped. @default 1000 */
  historyLimit?: number
}

/** Per-topic bounded history in memory: the building block of `JsonlStore` too. */
export class TopicLog {
  private readonly items: StoredMessage[] = []
  /** Index of the first live item: trimming shifts lazily so appends stay O(1) amortised. */
  private start = 0
  head = 0

  constructor(private readonly limit: number) {}

  push(message: StoredMessage): void {
    this.items.push(message)
    this.head = Math.max(this.head, message.seq)
    if (this.items.length - this.start > this.limit) this.start++
    // Compact the array once the dead prefix is as large as the live part.
    if (this.start > this.limit) {
      this.items.splice(0, this.start)
      this.start = 0
    }
  }

  get size(): number {
    return this.items.length - this.start
  }

  oldest(): number {
    return this.size > 0 ? this.items[this.start].seq : this.head + 1
  }

  since(afterSeq: number, limit: number): StoredMessage[] {
    const out: StoredMessage[] = []
    // Sequences are dense within a log, so the first index is computed; the two loops only
    // correct it if a damaged file left a hole.
    let i = Math.min(this.items.length, Math.max(this.start, this.start + (afterSeq + 1 - this.oldest())))
    while (i > this.start && this.items[i - 1].seq > afterSeq) i--
    while (i < this.items.length && this.items[i].seq <= afterSeq) i++
    for (; i < this.items.length && out.length < limit; i++) out.push(this.items[i])
    return out
  }

  all(): StoredMessage[] {
    return this.items.slice(this.start)
  }
}

/** History in memory only: fast, lost on restart. For tests and ephemeral deployments. */
export class MemoryStore implements HistoryStore {
  protected readonly logs = new Map<string, TopicLog>()
  protected readonly historyLimit: number

  constructor(options: MemoryStoreOptions = {}) {
    this.historyLimit = Math.max(1, options.historyLimit ?? DEFAULT_HISTORY_LIMIT)
  }

  load(): void {}

  protected log(topic: string): TopicLog {
    let log = this.logs.get(topic)
    if (!log) {
      log = new TopicLog(this.historyLimit)
      this.logs.set(topic, log)
    }
    return log
  }

  append(message: StoredMessage): void | Promise<void> {
    this.log(message.topic).push(message)
  }

  since(topic: string, afterSeq: number, limit: number): StoredMessage[] {
    return this.logs.get(topic)?.since(afterSeq, limit) ?? []
  }

  head(topic: string): number {
    return this.logs.get(topic)?.head ?? 0
  }

  oldest(topic: string): number {
    return this.logs.get(topic)?.oldest() ?? 1
  }

  topics(): string[] {
    return [...this.logs.keys()]
  }

  close(): void | Promise<void> {}
}
