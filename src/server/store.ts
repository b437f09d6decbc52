import type { FrameId } from '../core/protocol'

/** One stored topic message: what `message` frames carry, plus the publisher's user. */
export interface StoredMessage {
  topic: string
  /** Per-topic sequence, from 1, increasing by 1. */
  seq: number
  /** Client message id (or a server-made id); the dedupe window is rebuilt from it after a restart. */
  id: FrameId
  data: unknown
  /** `clientId` of the publisher, or `'server'`. */
  from: string
  user?: unknown
  /** Epoch ms. */
  ts: number
}

/**
 * The JSON-lines store's shape (`JsonlStore`), behind the engine interface since the engines
 * work (`engine-jsonl.ts` assigns sequence numbers and calls `append` in order). Internal; it
 * goes away with the SQLite engine.
 */
export interface HistoryStore {
  /** Reads persisted state; called once before the server accepts connections. */
  load(): void | Promise<void>
  /** Stores a message. The server acks the publisher only after this settles. */
  append(message: StoredMessage): void | Promise<void>
  /** Messages of `topic` with seq > `afterSeq`, oldest first, at most `limit`. */
  since(topic: string, afterSeq: number, limit: number): StoredMessage[] | Promise<StoredMessage[]>
  /** Sequence of the newest message of `topic` ever stored, 0 when none. Survives trimming. */
  head(topic: string): number | Promise<number>
  /** Sequence of the oldest message still held for `topic`, or head + 1 when none is held. */
  oldest(topic: string): number | Promise<number>
  /** Topics with any history. */
  topics(): string[] | Promise<string[]>
  /** Writes out anything buffered and releases files; the store may be loaded again later. */
  close(): void | Promise<void>
}
