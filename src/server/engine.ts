import type { ErrorCode, FrameId, PresenceFrame, PresenceMember } from '../core/protocol'

/**
 * The engine seam: what must be one truth across server processes. An engine owns, per topic,
 * the sequence numbers and the epoch, the dedupe of publish ids, the bounded history, the
 * fan-out of deliveries between server processes (nodes), and presence. The server keeps
 * sockets, auth, limits and frames, and talks to the engine only through this interface.
 *
 * Every method is async (a Redis or SQL engine answers over I/O) and may be called
 * concurrently; an engine serialises what must be serialised per topic itself. Implementations:
 * `memoryEngine()` (one process), `sqliteEngine()` (one node, history on disk; what `dataDir`
 * makes) and `redisEngine()` (several nodes on one Redis). `test/server/engine-conformance.ts`
 * is the shared contract test every engine passes.
 */
export interface RealtimeEngine {
  /** Names the engine in logs and errors, e.g. `'memory'`. */
  readonly name: string

  /**
   * Resolves once the engine can serve (files opened, connection made); rejects with an error
   * that names the cause (a locked database, an unreachable Redis). Idempotent; the server
   * awaits it before accepting connections.
   */
  ready(): Promise<void>

  /**
   * Stores a message as the next of its topic and delivers it to every subscribed listener, on
   * every node, as ONE atomic step per topic: dedupe by `id`, head + 1, append to history,
   * fan-out. Resolves once the message is durable as far as the engine promises (the server
   * acks after this). An `id` already in the topic's dedupe window stores and delivers
   * nothing and resolves with the ORIGINAL message and `duplicate: true`, whether or not the
   * topic has subscribers. Creates the topic (with a new epoch) when the engine holds none.
   * Rejects with an `EngineError` (`server_full`) when the engine is at a capacity cap.
   */
  publish(message: EnginePublish): Promise<PublishResult>

  /**
   * Delivers an ephemeral message (typing, cursors) to every subscribed listener on every
   * node: never stored, no sequence, no epoch. An `id` seen on the topic within the engine's
   * short ephemeral dedupe window (seconds) delivers nothing and resolves `duplicate: true`.
   */
  broadcast(message: EnginePublish): Promise<BroadcastResult>

  /**
   * The topic's position (epoch and head) and the newest held messages after `since`, as one
   * consistent read. Creates the topic (with a new epoch) when the engine holds none, so the
   * epoch a subscriber is given stays valid for the first publish.
   */
  history(topic: string, query: HistoryQuery): Promise<HistoryResult>

  /** Whether the engine holds the topic (its epoch), without creating it. */
  exists(topic: string): Promise<boolean>

  /**
   * Subscribes this node to a topic's deliveries. Once the returned promise resolves, every
   * message stored afterwards (by any node) reaches `listener` exactly once, in `seq` order,
   * with no hole within an epoch; a message stored before may be delivered too (the server
   * drops what it already sent). Ephemeral and presence events are delivered at most once.
   * Listeners never throw. The server subscribes once per topic that has subscribers on this
   * node and calls the returned function when the last one leaves; each call of `subscribe`
   * gets its own remover, so subscribe / unsubscribe / subscribe sequences compose.
   */
  subscribe(topic: string, listener: EngineListener): Promise<EngineUnsubscribe>

  /**
   * Records a presence change of a member on a topic and delivers it to every listener of the
   * topic on every node: `join` adds or replaces the member (by `clientId`), `online` and
   * `offline` replace a present member (and are dropped for one that is not there: it left),
   * `leave` removes it (dropped when it is not there). An engine spanning nodes expires the
   * members of a node that died (Redis: keys with a TTL, refreshed by the node).
   */
  announce(topic: string, event: PresenceEvent, member: PresenceMember): Promise<void>

  /** The topic's current members across nodes. */
  members(topic: string): Promise<PresenceMember[]>

  /** Topics the engine holds (listings, admin pages). May be slow on a large Redis: not for hot paths. */
  topics(): Promise<string[]>

  /**
   * Releases files, connections and timers. The server closes the engine it made itself (the
   * default, or `dataDir`); an engine passed as `engine` is the caller's to close, after
   * `server.close()` (several servers in one process may share one engine).
   */
  close(): Promise<void>
}

/** A stored message of a topic, as an engine keeps and returns it. */
export interface EngineMessage {
  topic: string
  /** The topic's epoch the message was stored in (an opaque string of 1-64 characters). */
  epoch: string
  /** Position within the epoch: 1, 2, 3... with no hole. */
  seq: number
  /** The publish id: the dedupe key within the topic. */
  id: FrameId
  /**
   * The payload as JSON text, encoded once by the server (which bounds its nesting first).
   * Engines store and return it verbatim; the server splices it into frames as is.
   */
  data: string
  /** The publisher's `clientId`, or `'server'`. */
  from: string
  /** The publisher's user (a JSON value) when authenticated. */
  user?: unknown
  /** Server time of publication, epoch ms. */
  ts: number
}

/** What the server hands to `publish` and `broadcast`: a message without a position. */
export type EnginePublish = Omit<EngineMessage, 'epoch' | 'seq'>

/** An ephemeral message: broadcast only, never stored. */
export type EphemeralMessage = EnginePublish

export interface PublishResult {
  /** The topic's epoch of `seq`. */
  epoch: string
  /** The message's sequence (the original one's for a duplicate). */
  seq: number
  /** True when the id was already stored: nothing was stored or delivered this time. */
  duplicate: boolean
  /** The stored message: the ORIGINAL one for a duplicate (its data, ts and publisher). */
  message: EngineMessage
  /** True when this publish created the topic (the server counts new topics per connection). */
  created: boolean
}

export interface BroadcastResult {
  /** True when the id was seen on the topic within the ephemeral dedupe window: not delivered again. */
  duplicate: boolean
}

export interface HistoryQuery {
  /** Only messages with `seq` greater than this. @default 0 */
  since?: number
  /**
   * The epoch `since` belongs to. When it is not the topic's current epoch, no messages are
   * returned (the numbering restarted; the server answers `recovered: false`).
   */
  epoch?: string
  /** At most this many messages: the NEWEST ones after `since`. 0 reads only the position. */
  limit: number
  /**
   * At most this many characters of `data` in total (`data.length` summed): again the newest
   * ones. A prefilter: the server cuts by encoded bytes afterwards. @default no limit
   */
  maxBytes?: number
}

export interface HistoryResult {
  /** The topic's current epoch. */
  epoch: string
  /** Sequence of the topic's newest message, 0 when none was ever stored in this epoch. */
  head: number
  /**
   * Oldest first, contiguous, and (when not empty) ending at `head`: the newest held messages
   * with `seq > since` within `limit` and `maxBytes`. Fewer than asked for when history was
   * trimmed.
   */
  messages: EngineMessage[]
  /** True when this read created the topic. */
  created: boolean
}

export type PresenceEvent = PresenceFrame['event']

/** One delivery to a node's listener of a topic. */
export type EngineEvent =
  | { type: 'message'; message: EngineMessage }
  | { type: 'ephemeral'; message: EphemeralMessage }
  | { type: 'presence'; topic: string; event: PresenceEvent; member: PresenceMember }

export type EngineListener = (event: EngineEvent) => void

/** Ends one `subscribe`. */
export type EngineUnsubscribe = () => Promise<void>

/**
 * An engine failure the client should hear about with its own code (the server sends an
 * `error` frame with `code` and `message`); any other error is reported and answered
 * `internal`. Engines throw `new EngineError('server_full', ...)` at a capacity cap.
 */
export class EngineError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message)
    this.name = 'EngineError'
  }
}
