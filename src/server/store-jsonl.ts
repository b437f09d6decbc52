import { createReadStream } from 'node:fs'
import { mkdir, open, rename, stat, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { MemoryStore, type MemoryStoreOptions } from './store-memory'
import type { HistoryStore, StoredMessage } from './store'

export interface JsonlStoreOptions extends MemoryStoreOptions {
  /** `fsync` after every batch of writes: survives power loss, costs latency. @default false */
  fsync?: boolean
  /** Rewrite the log once it holds this many lines more than twice what is kept. @default 1000 */
  compactSlack?: number
}

const LOG_FILE = 'messages.jsonl'

function isStoredMessage(value: unknown): value is StoredMessage {
  if (typeof value !== 'object' || value === null) return false
  const m = value as Record<string, unknown>
  return (
    typeof m.topic === 'string' &&
    typeof m.seq === 'number' &&
    Number.isSafeInteger(m.seq) &&
    m.seq > 0 &&
    (typeof m.id === 'string' || typeof m.id === 'number') &&
    typeof m.from === 'string' &&
    typeof m.ts === 'number'
  )
}

interface Batch {
  lines: StoredMessage[]
  done: Promise<void>
}

/**
 * The embedded persistent store: one append-only JSON-lines file (`<dir>/messages.jsonl`),
 * a bounded copy of each topic's history in memory for reads. Appends made in the same tick
 * are written (and optionally fsynced) as one batch; the file is rewritten with only the kept
 * messages when it grows past twice that (plus `compactSlack`), via a temp file and an atomic
 * rename. On `load`, a torn last line (crash mid-write) is skipped; sequence numbers and
 * message ids continue from what was on disk.
 */
export class JsonlStore extends MemoryStore implements HistoryStore {
  private readonly file: string
  private readonly fsync: boolean
  private readonly compactSlack: number
  private handle: FileHandle | null = null
  private linesInFile = 0
  /** Writes run one after the other on this chain. */
  private chain: Promise<void> = Promise.resolve()
  private queued: Batch | null = null

  constructor(
    readonly dir: string,
    options: JsonlStoreOptions = {},
  ) {
    super(options)
    this.file = join(dir, LOG_FILE)
    this.fsync = options.fsync ?? false
    this.compactSlack = options.compactSlack ?? 1000
  }

  override async load(): Promise<void> {
    await mkdir(this.dir, { recursive: true })
    this.logs.clear()
    this.linesInFile = 0
    if (await exists(this.file)) {
      const lines = createInterface({ input: createReadStream(this.file, 'utf8'), crlfDelay: Infinity })
      for await (const line of lines) {
        if (!line) continue
        this.linesInFile++
        let value: unknown
        try {
          value = JSON.parse(line)
        } catch {
          continue // a torn write from a crash: the message was never acked
        }
        if (!isStoredMessage(value)) continue
        const log = this.log(value.topic)
        if (value.seq > log.head) log.push(value)
      }
    }
    this.handle = await open(this.file, 'a')
  }

  /** Resolves once the message is written (and fsynced with `fsync: true`). */
  override append(message: StoredMessage): Promise<void> {
    if (!this.queued) {
      const batch: Batch = { lines: [], done: Promise.resolve() }
      batch.done = this.chain.then(() => {
        if (this.queued === batch) this.queued = null
        return this.write(batch.lines)
      })
      this.chain = batch.done.catch(() => {})
      this.queued = batch
    }
    this.queued.lines.push(message)
    return this.queued.done
  }

  private async write(messages: StoredMessage[]): Promise<void> {
    const handle = this.handle
    if (!handle) throw new Error('JsonlStore: append before load() or after close(); await server.ready first.')
    await handle.write(messages.map((m) => JSON.stringify(m) + '\n').join(''))
    if (this.fsync) await handle.sync()
    // Kept in memory only once on disk, so reads never return a message that could be lost.
    for (const m of messages) this.log(m.topic).push(m)
    this.linesInFile += messages.length
    let kept = 0
    for (const log of this.logs.values()) kept += log.size
    if (this.linesInFile > 2 * kept + this.compactSlack) await this.compact()
  }

  /** Rewrites the file with only the kept messages (temp file, fsync, rename). */
  private async compact(): Promise<void> {
    const tmp = this.file + '.tmp'
    const out = await open(tmp, 'w')
    let count = 0
    try {
      for (const log of this.logs.values()) {
        const messages = log.all()
        count += messages.length
        if (messages.length) await out.write(messages.map((m) => JSON.stringify(m) + '\n').join(''))
      }
      await out.sync()
    } finally {
      await out.close()
    }
    const previous = this.handle
    this.handle = null
    try {
      await previous?.close()
      await rename(tmp, this.file)
      this.linesInFile = count
    } finally {
      // Reopened even if the rename failed, so later appends still land in the (old) log.
      this.handle = await open(this.file, 'a')
    }
  }

  /** Waits for pending writes, then closes the file. */
  override async close(): Promise<void> {
    await this.chain
    const handle = this.handle
    this.handle = null
    if (handle) {
      if (this.fsync) await handle.sync().catch(() => {})
      await handle.close()
    }
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file)
    return true
  } catch {
    return false
  }
}
