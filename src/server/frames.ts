import { ErrorCode, parseClientFrame, type ClientFrame, type ErrorFrame, type FrameError } from '../core/protocol'
import type { ClientConnection } from './client'
import type { ServerContext } from './context'
import type { Presence } from './presence'
import { answerRequest } from './requests'
import type { TopicRegistry } from './topics'
import type { TopicAction } from './types'

/** `useWebSocket`'s default heartbeat sends this bare text; it is answered like a `ping` frame. */
const BARE_PING = 'ping'

function errorFrame(error: FrameError): ErrorFrame {
  return { type: 'error', ...error }
}

/** Turns inbound frames of one server into actions. Every path is guarded: nothing a client sends throws. */
export class FrameHandler<User> {
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
    this.dispatch(client, parsed.frame).catch((error: unknown) => {
      this.ctx.report(error, `handling a "${parsed.frame.type}" frame`)
      const ref = 'id' in parsed.frame ? parsed.frame.id : undefined
      const topic = 'topic' in parsed.frame ? parsed.frame.topic : undefined
      client.send({
        type: 'error',
        code: ErrorCode.Internal,
        message: 'The server failed to handle this frame; try again later.',
        frame: parsed.frame.type,
        ...(ref !== undefined ? { ref } : {}),
        ...(topic !== undefined ? { topic } : {}),
      })
    })
  }

  private async allowed(client: ClientConnection<User>, topic: string, action: TopicAction): Promise<boolean> {
    const authorize = this.ctx.options.authorize
    return !authorize || (await authorize(client.user, topic, action, client)) === true
  }

  private async dispatch(client: ClientConnection<User>, frame: ClientFrame): Promise<void> {
    switch (frame.type) {
      case 'ping':
        client.send({ type: 'pong', ts: frame.ts ?? this.ctx.now() })
        return
      case 'subscribe': {
        const already = client.topics.has(frame.topic)
        if (!already && client.topics.size >= this.ctx.limits.maxTopicsPerConnection) {
          client.send({
            type: 'error',
            code: ErrorCode.TooManyTopics,
            message: `At most ${this.ctx.limits.maxTopicsPerConnection} topics per connection; unsubscribe from one first.`,
            frame: 'subscribe',
            topic: frame.topic,
          })
          return
        }
        // Reserved before the await, so concurrent subscribes count against the limit.
        client.topics.add(frame.topic)
        let ok = false
        try {
          ok = await this.allowed(client, frame.topic, 'subscribe')
        } finally {
          if (!ok && !already) client.topics.delete(frame.topic)
        }
        if (!ok) {
          client.send({ type: 'error', code: ErrorCode.Forbidden, message: `Not allowed to subscribe to "${frame.topic}".`, frame: 'subscribe', topic: frame.topic })
          return
        }
        await this.topics.subscribe(client, frame)
        return
      }
      case 'unsubscribe':
        if (client.topics.delete(frame.topic)) await this.topics.unsubscribe(client, frame.topic)
        client.send({ type: 'unsubscribed', topic: frame.topic })
        return
      case 'publish': {
        if (!(await this.allowed(client, frame.topic, 'publish'))) {
          client.send({ type: 'error', code: ErrorCode.Forbidden, message: `Not allowed to publish to "${frame.topic}".`, frame: 'publish', ref: frame.id, topic: frame.topic })
          return
        }
        const { message, duplicate } = await this.topics.publish({ topic: frame.topic, id: frame.id, data: frame.data, client, ephemeral: frame.ephemeral })
        // A duplicate gets the first ack again and is not re-broadcast.
        client.send(message.seq === undefined ? { type: 'ack', id: frame.id } : { type: 'ack', id: frame.id, seq: message.seq })
        if (!duplicate) this.ctx.events.emit('publish', message)
        return
      }
      case 'request':
        await answerRequest(this.ctx, client, frame)
        return
    }
  }
}
