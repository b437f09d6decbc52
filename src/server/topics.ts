import { CloseCode, type SubscribeFrame } from '../core/protocol'
import type { ClientConnection } from './client'
import type { ServerContext } from './context'
import { ephemeralFrameText, messageFrameText } from './encode'
import { encodeTextFrame } from './outbound'
import type { EngineEvent, EngineMessage, EngineUnsubscribe, HistoryQuery, HistoryResult } from './engine'
import { memberOf } from './presence'

/** The frame of one delivery, as text. */
function frameText(event: EngineEvent): string {
  switch (event.type) {
    case 'message':
      return messageFrameText(event.message)
    case 'ephemeral':
      return ephemeralFrameText(event.message)
    case 'presence':
      return JSON.stringify({ type: 'presence', topic: event.topic, event: event.event, member: event.member })
  }
}

/** Where a subscriber stands in its topic's stream: the last message it was sent. */
interface Cursor {
  epoch: string
  seq: number
}

/** Deliveries one joining client may fall behind by while its replay is read; past it, the join is cut. */
const MAX_JOIN_BUFFER = 10_000

interface Joining {
  readonly events: EngineEvent[]
  overflowed: boolean
}

/**
 * A topic with subscribers (or joins in flight) on this node: its engine subscription, and
 * each subscriber's cursor. Deliveries come from the engine in `seq` order; a subscriber is sent
 * only what is past its cursor, so a replay and the live stream meet exactly at the head.
 */
class LocalTopic<User> {
  readonly subscribers = new Map<ClientConnection<User>, Cursor>()
  /** Clients whose replay is being read: deliveries meanwhile wait here for them. */
  readonly joining = new Map<ClientConnection<User>, Joining>()
  /** Joins in flight; with the subscribers, what keeps the topic live here. */
  pending = 0
  /** The engine subscription; set right after construction (deliveries may start at once). */
  subscription!: Promise<EngineUnsubscribe>
  /** Whether the last delivery already reported a hole (reported once, not per subscriber). */
  holeReported = false

  constructor(readonly name: string) {}
}

export interface JoinResult {
  /** The engine created the topic for this subscribe (it counts against `newTopicLimit`). */
  created: boolean
}

/** The topics live on this node, their deliveries from the engine, and the join/leave of subscribers. */
export class TopicRegistry<User> {
  private readonly topics = new Map<string, LocalTopic<User>>()

  constructor(private readonly ctx: ServerContext<User>) {}

  /** True when the topic has subscribers or joins in flight on this node. */
  has(name: string): boolean {
    return this.topics.has(name)
  }

  /** Topics with at least one subscriber on this node. */
  names(): string[] {
    return [...this.topics.values()].filter((t) => t.subscribers.size > 0).map((t) => t.name)
  }

  private acquire(name: string): LocalTopic<User> {
    let topic = this.topics.get(name)
    if (!topic) {
      const created = new LocalTopic<User>(name)
      this.topics.set(name, created)
      created.subscription = this.ctx.engine.subscribe(name, (event) => this.deliver(created, event))
      // A failed engine subscription is not reused: the next subscribe tries again.
      created.subscription.catch(() => {
        if (this.topics.get(name) === created) this.topics.delete(name)
      })
      topic = created
    }
    topic.pending++
    return topic
  }

  private release(topic: LocalTopic<User>): void {
    topic.pending--
    this.dropIfUnused(topic)
  }

  private dropIfUnused(topic: LocalTopic<User>): void {
    if (topic.pending > 0 || topic.subscribers.size > 0) return
    if (this.topics.get(topic.name) === topic) this.topics.delete(topic.name)
    topic.subscription.then(
      (unsubscribe) => unsubscribe().catch((error: unknown) => this.ctx.report(error, `unsubscribing from "${topic.name}" in the engine`)),
      () => {}, // already reported by the subscribe that failed
    )
  }

  /**
   * Subscribes a client: reads the replay from the engine, sends it, then `subscribed` (the end
   * of the replay), then whatever was delivered meanwhile past the head. A re-subscribe is a
   * fresh join. Resolves null when the client went away meanwhile; throws engine failures
   * (the client is then not subscribed).
   */
  async join(client: ClientConnection<User>, frame: SubscribeFrame): Promise<JoinResult | null> {
    const { engine, limits } = this.ctx
    const name = frame.topic
    const topic = this.acquire(name)
    topic.subscribers.delete(client)
    const joining: Joining = { events: [], overflowed: false }
    topic.joining.set(client, joining)
    try {
      await topic.subscription
      const history = await engine.history(name, this.query(frame))
      if (limits.presence && !client.closing && !client.present.has(name)) {
        client.present.add(name)
        await engine.announce(name, 'join', memberOf(client))
      }
      const members = limits.presence ? await engine.members(name) : []
      if (client.closing || topic.joining.get(client) !== joining) return null
      topic.joining.delete(client)
      if (joining.overflowed) {
        client.close(CloseCode.InternalError, 'subscribe fell behind the live stream; reconnect')
        return null
      }
      const { frames, recovered } = this.replay(frame, history)
      for (const text of frames) client.sendText(text)
      client.send({ type: 'subscribed', topic: name, seq: history.head, epoch: history.epoch, recovered, presence: members })
      const cursor: Cursor = { epoch: history.epoch, seq: history.head }
      topic.subscribers.set(client, cursor)
      for (const event of joining.events) if (this.wants(topic, client, cursor, event)) client.sendText(frameText(event))
      return { created: history.created }
    } finally {
      if (topic.joining.get(client) === joining) topic.joining.delete(client)
      this.release(topic)
    }
  }

  private query(frame: SubscribeFrame): HistoryQuery {
    const { replayLimit, replayMaxBytes } = this.ctx.limits
    if (frame.since !== undefined) {
      const query: HistoryQuery = { since: frame.since, limit: replayLimit, maxBytes: replayMaxBytes }
      if (frame.epoch !== undefined) query.epoch = frame.epoch
      return query
    }
    return { limit: frame.history ? Math.min(frame.history, replayLimit) : 0, maxBytes: replayMaxBytes }
  }

  /**
   * The replay frames (the newest that fit in `replayMaxBytes`, bug 22) and whether they cover
   * everything after `since` in the client's epoch.
   */
  private replay(frame: SubscribeFrame, history: HistoryResult): { frames: Buffer[]; recovered: boolean } {
    const { since, epoch } = frame
    if (since !== undefined && ((epoch !== undefined && epoch !== history.epoch) || since > history.head)) {
      // Another numbering, or the client saw more than the engine has: its history was lost.
      return { frames: [], recovered: false }
    }
    const frames = history.messages.map((m) => Buffer.from(messageFrameText(m)))
    let bytes = frames.reduce((sum, f) => sum + f.length, 0)
    let first = 0
    while (bytes > this.ctx.limits.replayMaxBytes && first < frames.length) bytes -= frames[first++].length
    const kept = first > 0 ? frames.slice(first) : frames
    if (since === undefined || since === history.head) return { frames: kept, recovered: true }
    const firstSeq = history.messages[first]?.seq
    return { frames: kept, recovered: firstSeq === since + 1 }
  }

  /** Removes a client from a topic here and from its presence everywhere. */
  leave(client: ClientConnection<User>, name: string): void {
    const topic = this.topics.get(name)
    if (topic) {
      topic.joining.delete(client)
      if (topic.subscribers.delete(client)) this.dropIfUnused(topic)
    }
    if (client.present.delete(name) && this.ctx.limits.presence) {
      this.ctx.engine.announce(name, 'leave', memberOf(client)).catch((error: unknown) => this.ctx.report(error, `announcing a leave on "${name}"`))
    }
  }

  /** A closed connection leaves every topic at once. */
  removeClient(client: ClientConnection<User>): void {
    for (const name of new Set([...client.slots.keys(), ...client.present])) this.leave(client, name)
    client.slots.clear()
    client.topics.clear()
  }

  private deliver(topic: LocalTopic<User>, event: EngineEvent): void {
    topic.holeReported = false
    // Encoded once for every subscriber of this node, frame header included (1,000 subscribers = 1,000 encodings otherwise).
    let payload: Buffer | null = null
    let frame: Buffer | null = null
    for (const [client, cursor] of topic.subscribers) {
      if (!this.wants(topic, client, cursor, event)) continue
      payload ??= Buffer.from(frameText(event))
      frame ??= encodeTextFrame(payload)
      client.sendFrame(frame, payload)
    }
    for (const joining of topic.joining.values()) {
      if (joining.events.length < MAX_JOIN_BUFFER) joining.events.push(event)
      else joining.overflowed = true
    }
  }

  /** Whether a subscriber gets a delivery: not when it is behind its cursor, nor its own ephemeral or presence. */
  private wants(topic: LocalTopic<User>, client: ClientConnection<User>, cursor: Cursor, event: EngineEvent): boolean {
    switch (event.type) {
      case 'message':
        return this.advance(topic, cursor, event.message)
      case 'ephemeral':
        // Not echoed to its publisher.
        return event.message.from !== client.id
      case 'presence':
        return event.member.clientId !== client.id
    }
  }

  /** Moves a cursor to a delivered message; false when the subscriber already has it. */
  private advance(topic: LocalTopic<User>, cursor: Cursor, message: EngineMessage): boolean {
    if (message.epoch === cursor.epoch) {
      if (message.seq <= cursor.seq) return false
      if (message.seq > cursor.seq + 1 && !topic.holeReported) {
        // The engine promises no hole; say so loudly rather than let a client believe it has everything.
        topic.holeReported = true
        this.ctx.report(new Error(`engine "${this.ctx.engine.name}" delivered seq ${message.seq} after ${cursor.seq}`), `delivering "${topic.name}"`)
      }
    }
    cursor.epoch = message.epoch
    cursor.seq = message.seq
    return true
  }

  /** Ends every engine subscription of this node (shutdown). */
  async close(): Promise<void> {
    const topics = [...this.topics.values()]
    this.topics.clear()
    await Promise.all(topics.map((t) => t.subscription.then((unsubscribe) => unsubscribe()).catch(() => {})))
  }
}
