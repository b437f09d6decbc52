import type { FrameId, MessageFrame, SubscribeFrame } from '../core/protocol'
import type { ClientConnection } from './client'
import type { ServerContext } from './context'
import { DedupeWindow } from './limits'
import type { Presence } from './presence'
import type { StoredMessage } from './store'
import type { PublishedMessage } from './types'

/** What a publish needs besides the topic: who, which id, what. */
export interface PublishInput<User> {
  topic: string
  id: FrameId
  data: unknown
  /** The publishing client, or null for `server.publish`. */
  client: ClientConnection<User> | null
  ephemeral?: boolean
}

export function messageFrame(message: PublishedMessage): MessageFrame {
  const frame: MessageFrame = { type: 'message', topic: message.topic, id: message.id, data: message.data, from: message.from, ts: message.ts }
  if (message.seq !== undefined) frame.seq = message.seq
  if (message.user !== undefined) frame.user = message.user
  if (message.ephemeral) frame.ephemeral = true
  return frame
}

/**
 * One live topic: its subscribers, head sequence and dedupe window. Every publish, subscribe
 * and unsubscribe of the topic runs on one promise chain, so sequence numbers are assigned in
 * order even with an async store, and a subscriber's replay and live stream meet exactly at
 * the head: nothing is missed, nothing is sent twice.
 */
class Topic<User> {
  readonly subscribers = new Set<ClientConnection<User>>()
  head = 0
  pending = 0
  loadError: unknown = null
  private tail: Promise<void> = Promise.resolve()

  constructor(
    readonly name: string,
    readonly dedupe: DedupeWindow,
    private readonly onIdle: (topic: Topic<User>) => void,
  ) {}

  run<T>(task: () => T | Promise<T>): Promise<T> {
    this.pending++
    const result = this.tail.then(() => {
      if (this.loadError) throw this.loadError
      return task()
    })
    this.tail = result.then(
      () => this.settle(),
      () => this.settle(),
    )
    return result
  }

  /** Resolves when every task queued so far has finished. */
  drain(): Promise<void> {
    return this.tail
  }

  private settle(): void {
    this.pending--
    this.onIdle(this)
  }
}

/** All live topics. A topic without subscribers or pending work is dropped; the store keeps its history. */
export class TopicRegistry<User> {
  private readonly topics = new Map<string, Topic<User>>()
  presence: Presence<User> | null = null

  constructor(private readonly ctx: ServerContext<User>) {}

  subscribersOf(name: string): ReadonlySet<ClientConnection<User>> | undefined {
    return this.topics.get(name)?.subscribers
  }

  names(): string[] {
    return [...this.topics.values()].filter((t) => t.subscribers.size > 0).map((t) => t.name)
  }

  /** The live topic, created and loaded (head and recent ids from the store) on first use. */
  private topic(name: string): Topic<User> {
    let topic = this.topics.get(name)
    if (topic) return topic
    const created = new Topic<User>(name, new DedupeWindow(this.ctx.limits.dedupeWindow), (t) => this.release(t))
    this.topics.set(name, created)
    void created.run(async () => {
      try {
        const { store } = this.ctx
        created.head = await store.head(name)
        const window = this.ctx.limits.dedupeWindow
        if (window > 0 && created.head > 0) {
          for (const m of await store.since(name, Math.max(0, created.head - window), window)) created.dedupe.remember(m.id, m.seq)
        }
      } catch (error) {
        // Every task queued behind this one fails with the error; the next use retries the load.
        created.loadError = error
        this.ctx.report(error, `loading topic "${name}" from the store`)
      }
    })
    topic = created
    return topic
  }

  private release(topic: Topic<User>): void {
    if ((topic.pending === 0 && topic.subscribers.size === 0) || (topic.loadError && topic.pending === 0)) {
      if (this.topics.get(topic.name) === topic) this.topics.delete(topic.name)
    }
  }

  /** Stores (unless ephemeral), fans out and returns the message; a duplicate id returns the first one's seq. */
  async publish(input: PublishInput<User>): Promise<{ message: PublishedMessage; duplicate: boolean }> {
    const { client } = input
    const base = {
      topic: input.topic,
      id: input.id,
      data: input.data,
      from: client ? client.id : 'server',
      ts: this.ctx.now(),
      ...(client?.user !== undefined ? { user: client.user } : {}),
    }
    if (input.ephemeral) {
      const message: PublishedMessage = { ...base, ephemeral: true }
      // Ephemeral messages (typing, cursors) are not echoed to their publisher.
      this.fanOut(input.topic, message, client)
      return { message, duplicate: false }
    }
    const topic = this.topic(input.topic)
    return topic.run(async () => {
      const seen = topic.dedupe.get(input.id)
      if (seen !== undefined) return { message: { ...base, seq: seen }, duplicate: true }
      const message: StoredMessage = { ...base, seq: topic.head + 1, ts: this.ctx.now() }
      await this.ctx.store.append(message)
      topic.head = message.seq
      topic.dedupe.remember(message.id, message.seq)
      this.fanOut(input.topic, message, null)
      return { message, duplicate: false }
    })
  }

  private fanOut(name: string, message: PublishedMessage, except: ClientConnection<User> | null): void {
    const subscribers = this.topics.get(name)?.subscribers
    if (!subscribers || subscribers.size === 0) return
    // Encoded to UTF-8 once, not once per subscriber (1,000 subscribers = 1,000 encodings otherwise).
    const text = Buffer.from(JSON.stringify(messageFrame(message)))
    for (const client of subscribers) if (client !== except) client.sendText(text)
  }

  /**
   * Replays what the client missed, then adds it to the subscribers and sends `subscribed`
   * (the end of the replay). The caller has already reserved the topic in `client.topics`.
   */
  subscribe(client: ClientConnection<User>, frame: SubscribeFrame): Promise<void> {
    const topic = this.topic(frame.topic)
    return topic.run(async () => {
      // Unsubscribed or gone while waiting in the queue.
      if (client.closing || !client.topics.has(frame.topic)) return
      const { store, limits } = this.ctx
      const head = topic.head
      let recovered = true
      let replay: StoredMessage[] = []
      if (frame.since !== undefined) {
        if (frame.since > head) {
          // The client saw more than this server has: its history was lost or reset.
          recovered = false
        } else if (frame.since < head) {
          let after = frame.since
          if (head - after > limits.replayLimit) {
            after = head - limits.replayLimit
            recovered = false
          }
          if (after + 1 < (await store.oldest(frame.topic))) recovered = false
          replay = await store.since(frame.topic, after, limits.replayLimit)
        }
      } else if (frame.history) {
        const count = Math.min(frame.history, limits.replayLimit)
        replay = await store.since(frame.topic, Math.max(0, head - count), count)
      }
      if (client.closing || !client.topics.has(frame.topic)) return
      for (const message of replay) client.send(messageFrame(message))
      const joined = !topic.subscribers.has(client)
      topic.subscribers.add(client)
      client.send({ type: 'subscribed', topic: frame.topic, seq: head, recovered, presence: this.presence?.members(frame.topic) ?? [] })
      if (joined) this.presence?.announce(frame.topic, 'join', client)
    })
  }

  /** Removes a subscription; the caller has already removed the topic from `client.topics`. */
  async unsubscribe(client: ClientConnection<User>, name: string): Promise<void> {
    const topic = this.topics.get(name)
    if (!topic) return
    await topic.run(() => {
      if (client.topics.has(name)) return // subscribed again meanwhile
      this.leave(topic, client)
    })
  }

  /** A closed connection leaves every topic at once. */
  removeClient(client: ClientConnection<User>): void {
    for (const name of client.topics) {
      const topic = this.topics.get(name)
      if (topic) {
        this.leave(topic, client)
        this.release(topic)
      }
    }
    client.topics.clear()
  }

  private leave(topic: Topic<User>, client: ClientConnection<User>): void {
    if (!topic.subscribers.has(client)) return
    this.presence?.announce(topic.name, 'leave', client)
    topic.subscribers.delete(client)
  }

  /** Waits for every queued publish and subscribe (shutdown). */
  async drain(): Promise<void> {
    await Promise.all([...this.topics.values()].map((t) => t.drain()))
  }
}
