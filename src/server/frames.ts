import { ErrorCode, parseClientFrame, type ClientFrame, type ErrorFrame, type FrameError, type PublishFrame, type SubscribeFrame } from '../core/protocol'
import type { ClientConnection, TopicSlot } from './client'
import type { ServerContext } from './context'
import { encodeData, nestingDepth } from './encode'
import { EngineError, type EnginePublish } from './engine'
import type { Presence } from './presence'
import { answerRequest } from './requests'
import type { TopicRegistry } from './topics'
import type { PublishedMessage, TopicAction } from './types'

/** `useWebSocket`'s default heartbeat sends this bare text; it is answered like a `ping` frame. */
const BARE_PING = 'ping'

function errorFrame(error: FrameError): ErrorFrame {
  return { type: 'error', ...error }
}

/** What the `publish` event and `server.publish` show of a message: the payload as a value. */
export function published(message: EnginePublish & { seq?: number; epoch?: string }, data: unknown, ephemeral: boolean): PublishedMessage {
  const out: PublishedMessage = { topic: message.topic, id: message.id, data, from: message.from, ts: message.ts }
  if (message.user !== undefined) out.user = message.user
  if (message.seq !== undefined) out.seq = message.seq
  if (message.epoch !== undefined) out.epoch = message.epoch
  if (ephemeral) out.ephemeral = true
  return out
}

/** Turns inbound frames of one server into actions. Every path is guarded: nothing a client sends throws. */
export class FrameHandler<User> {
  /** Subscribes, unsubscribes and publishes being handled, so shutdown can let them finish before closing the engine. */
  private readonly inflight = new Set<Promise<void>>()

  constructor(
    private readonly ctx: ServerContext<User>,
    private readonly topics: TopicRegistry<User>,
    private readonly presence: Presence<User>,
  ) {}

  /** One inbound WebSocket message. */
  receive(client: ClientConnection<User>, data: Buffer, isBinary: boolean): void {
    if (!client.admitFrame()) return
    this.presence.touch(client)
    if (isBinary) {
      client.send({ type: 'error', code: ErrorCode.BinaryNotSupported, message: 'Binary frames are not supported; send JSON text frames.' })
      return
    }
    const text = data.toString('utf8')
    if (text === BARE_PING) {
      client.send({ type: 'pong', ts: this.ctx.now() })
      return
    }
    const parsed = parseClientFrame(text)
    if (!parsed.ok) {
      client.send(errorFrame(parsed.error))
      return
    }
    const frame = parsed.frame
    const ref = 'id' in frame ? frame.id : undefined
    const topic = 'topic' in frame ? frame.topic : undefined
    const answer = (code: ErrorCode, message: string): void =>
      client.send({ type: 'error', code, message, frame: frame.type, ...(ref !== undefined ? { ref } : {}), ...(topic !== undefined ? { topic } : {}) })
    // The frame object is level 1; bounded before anything is stored or encoded again (bug 19).
    if (nestingDepth(text) - 1 > this.ctx.limits.maxDepth) {
      answer(ErrorCode.InvalidFrame, `Data nests deeper than ${this.ctx.limits.maxDepth} levels; send flatter data.`)
      return
    }
    const handling = this.dispatch(client, frame).catch((error: unknown) => {
      if (error instanceof EngineError) return answer(error.code, error.message)
      this.ctx.report(error, `handling a "${frame.type}" frame`)
      answer(ErrorCode.Internal, 'The server failed to handle this frame; try again later.')
    })
    // Request handlers are the application's: shutdown does not wait for them.
    if (frame.type === 'request') return
    this.inflight.add(handling)
    void handling.finally(() => this.inflight.delete(handling))
  }

  /** Resolves once every subscribe, unsubscribe and publish received so far has been handled, or after `timeout` ms. */
  async drain(timeout: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined
    const expired = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeout)))
    await Promise.race([Promise.all([...this.inflight]), expired])
    clearTimeout(timer)
  }

  private async allowed(client: ClientConnection<User>, topic: string, action: TopicAction): Promise<boolean> {
    const authorize = this.ctx.options.authorize
    return !authorize || (await authorize(client.user, topic, action, client)) === true
  }

  /**
   * Whether the client may touch this topic under its new-topic budget: always when the topic
   * is live here or budget is left; otherwise only when the engine already holds the topic.
   */
  private async mayCreate(client: ClientConnection<User>, topic: string): Promise<boolean> {
    if (!client.newTopics || this.topics.has(topic) || client.newTopics.available(this.ctx.now())) return true
    return this.ctx.engine.exists(topic)
  }

  private tooManyNewTopics(): string {
    const limit = this.ctx.limits.newTopicLimit
    return limit ? `This connection created more than ${limit.topics} new topics in ${limit.perMs} ms; retry later or reuse topics.` : ''
  }

  private async dispatch(client: ClientConnection<User>, frame: ClientFrame): Promise<void> {
    switch (frame.type) {
      case 'ping':
        client.send({ type: 'pong', ts: frame.ts ?? this.ctx.now() })
        return
      case 'subscribe':
        if (!client.slots.has(frame.topic) && client.slots.size >= this.ctx.limits.maxTopicsPerConnection) {
          client.send({
            type: 'error',
            code: ErrorCode.TooManyTopics,
            message: `At most ${this.ctx.limits.maxTopicsPerConnection} topics per connection; unsubscribe from one first.`,
            frame: 'subscribe',
            topic: frame.topic,
          })
          return
        }
        // Queued behind earlier subscribes and unsubscribes of the topic (bug 23).
        return client.enqueue(frame.topic, (slot) => this.subscribe(client, frame, slot))
      case 'unsubscribe':
        if (!client.slots.has(frame.topic)) {
          client.send({ type: 'unsubscribed', topic: frame.topic })
          return
        }
        return client.enqueue(frame.topic, async (slot) => {
          if (slot.subscribed) {
            slot.subscribed = false
            this.topics.leave(client, frame.topic)
          }
          client.send({ type: 'unsubscribed', topic: frame.topic })
        })
      case 'publish':
        return this.publish(client, frame)
      case 'request':
        return answerRequest(this.ctx, client, frame)
    }
  }

  /** One subscribe, run in its slot's queue: exactly one answer, and the slot reflects it. */
  private async subscribe(client: ClientConnection<User>, frame: SubscribeFrame, slot: TopicSlot): Promise<void> {
    if (client.closing) return
    const { topic } = frame
    // A refused or failed (re-)subscribe leaves the topic unsubscribed: the latest answer is the state.
    const fail = (code: ErrorCode, message: string): void => {
      slot.subscribed = false
      this.topics.leave(client, topic)
      client.send({ type: 'error', code, message, frame: 'subscribe', topic })
    }
    try {
      if (!(await this.allowed(client, topic, 'subscribe'))) return fail(ErrorCode.Forbidden, `Not allowed to subscribe to "${topic}".`)
      if (!slot.subscribed && !(await this.mayCreate(client, topic))) return fail(ErrorCode.TooManyNewTopics, this.tooManyNewTopics())
      if (client.closing) return
      const joined = await this.topics.join(client, frame)
      if (!joined) return // the client went away meanwhile
      slot.subscribed = true
      if (joined.created) client.newTopics?.take(this.ctx.now())
    } catch (error) {
      if (error instanceof EngineError) return fail(error.code, error.message)
      this.ctx.report(error, `subscribing to "${topic}"`)
      fail(ErrorCode.Internal, 'The server failed to subscribe; try again later.')
    }
  }

  private async publish(client: ClientConnection<User>, frame: PublishFrame): Promise<void> {
    const { topic, id } = frame
    const refuse = (code: ErrorCode, message: string): void => client.send({ type: 'error', code, message, frame: 'publish', ref: id, topic })
    if (!(await this.allowed(client, topic, 'publish'))) return refuse(ErrorCode.Forbidden, `Not allowed to publish to "${topic}".`)
    const data = encodeData(frame.data)
    if (data === undefined) return refuse(ErrorCode.InvalidFrame, 'The data could not be encoded again; send plain JSON.')
    const message: EnginePublish = { topic, id, data, from: client.id, ts: this.ctx.now() }
    if (client.user !== undefined) message.user = client.user
    if (frame.ephemeral) {
      // Deduplicated in a short window too (bug 11): a resent typing event is acked, not shown twice.
      const { duplicate } = await this.ctx.engine.broadcast(message)
      client.send({ type: 'ack', id })
      if (!duplicate) this.ctx.events.emit('publish', published(message, frame.data, true))
      return
    }
    if (!this.topics.has(topic) && !(await this.mayCreate(client, topic))) return refuse(ErrorCode.TooManyNewTopics, this.tooManyNewTopics())
    const result = await this.ctx.engine.publish(message)
    if (result.created) client.newTopics?.take(this.ctx.now())
    // A duplicate gets the first ack again and is not re-broadcast.
    client.send({ type: 'ack', id, seq: result.seq, epoch: result.epoch })
    if (!result.duplicate) this.ctx.events.emit('publish', published(result.message, frame.data, false))
  }
}
