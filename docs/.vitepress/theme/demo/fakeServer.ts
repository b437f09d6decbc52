/**
 * An in-page stand-in for `createRealtimeServer`, for the live demos of a static docs site:
 * `server.WebSocket` is a WebSocket class that never touches the network and speaks the
 * vue-realtime protocol (docs/protocol.md) with this object — welcome, subscribe with replay
 * from (epoch, seq), acknowledged and deduplicated publishes, presence, request, ping.
 * Pass it as the `WebSocket` connection option. Small on purpose: what the demos need.
 */
import { PROTOCOL, parseClientFrame, type ClientFrame, type PresenceMember, type ServerFrame } from 'vue-realtime/core'
import type { WebSocketConstructor, WebSocketData, WebSocketLike } from 'vue-realtime/core'

interface StoredMessage {
  topic: string
  seq: number
  epoch: string
  id: string | number
  data: unknown
  from: string
  ts: number
}

interface Topic {
  seq: number
  epoch: string
  history: StoredMessage[]
  acked: Set<string | number>
  subscribers: Set<FakeSocket>
}

/** Simulated one-way latency, ms: enough to see `connecting`, short enough not to wait. */
const LATENCY_MS = 40
const HISTORY = 100

let clientCount = 0

class FakeSocket implements WebSocketLike {
  readyState = 0
  bufferedAmount = 0
  protocol = ''
  binaryType = 'arraybuffer'
  onopen: ((ev: unknown) => void) | null = null
  onmessage: ((ev: { data: unknown }) => void) | null = null
  onclose: ((ev: { code: number; reason: string; wasClean: boolean }) => void) | null = null
  onerror: ((ev: unknown) => void) | null = null
  readonly clientId = `demo-${++clientCount}`
  readonly topics = new Set<string>()

  constructor(
    readonly server: FakeRealtimeServer,
    protocols: string | string[] | undefined,
  ) {
    const offered = protocols === undefined ? [] : [protocols].flat()
    setTimeout(() => {
      if (this.readyState !== 0) return
      if (!server.up) return this.end(1006, '', false)
      this.readyState = 1
      this.protocol = offered.includes(PROTOCOL) ? PROTOCOL : ''
      server.accept(this)
      this.onopen?.({})
      this.deliver({ type: 'welcome', protocol: PROTOCOL, clientId: this.clientId, heartbeat: 25_000 })
    }, LATENCY_MS)
  }

  send(data: WebSocketData): void {
    if (this.readyState !== 1) throw new Error('InvalidStateError: the socket is not open')
    const text = typeof data === 'string' ? data : ''
    setTimeout(() => this.readyState === 1 && this.server.receive(this, text), LATENCY_MS)
  }

  close(code = 1000, reason = ''): void {
    if (this.readyState >= 2) return
    this.readyState = 2
    setTimeout(() => this.end(code, reason, true), LATENCY_MS)
  }

  /** A frame from the server, after the simulated latency. */
  deliver(frame: ServerFrame): void {
    const text = JSON.stringify(frame)
    setTimeout(() => this.readyState === 1 && this.onmessage?.({ data: text }), LATENCY_MS)
  }

  /** The link ends (either side); the server forgets this socket. */
  end(code: number, reason: string, wasClean: boolean): void {
    if (this.readyState === 3) return
    this.readyState = 3
    this.server.forget(this)
    this.onclose?.({ code, reason, wasClean })
  }
}

/** The in-page protocol server. Its `WebSocket` class connects to it. */
export class FakeRealtimeServer {
  /** False while "down": new sockets fail as a refused TCP connection does (1006). */
  up = true
  readonly sockets = new Set<FakeSocket>()
  readonly WebSocket: WebSocketConstructor
  readonly #topics = new Map<string, Topic>()
  #epochs = 0

  constructor(readonly handlers: Record<string, (data: unknown) => unknown> = {}) {
    const server = this
    this.WebSocket = class extends FakeSocket {
      constructor(_url: string, protocols?: string | string[]) {
        super(server, protocols)
      }
    }
  }

  /** Publishes from the "server" (as `createRealtimeServer().publish` does). */
  publish(topic: string, data: unknown): void {
    this.#store(topic, `server:${Date.now()}:${Math.random()}`, data, 'server')
  }

  /** Closes every socket with `code` and stays down for `downMs` (a restart or an outage). */
  restart(code = 1012, reason = 'server restarting', downMs = 1_500): void {
    this.up = false
    for (const socket of [...this.sockets]) socket.end(code, reason, code !== 1006)
    setTimeout(() => (this.up = true), downMs)
  }

  accept(socket: FakeSocket): void {
    this.sockets.add(socket)
  }

  forget(socket: FakeSocket): void {
    this.sockets.delete(socket)
    for (const name of socket.topics) this.#leave(socket, name)
  }

  receive(socket: FakeSocket, text: string): void {
    if (text === 'ping') return socket.deliver({ type: 'pong', ts: Date.now() })
    const parsed = parseClientFrame(text)
    if (!parsed.ok) return socket.deliver({ type: 'error', ...parsed.error })
    this.#handle(socket, parsed.frame)
  }

  #topic(name: string): Topic {
    let topic = this.#topics.get(name)
    if (!topic) this.#topics.set(name, (topic = { seq: 0, epoch: `demo-epoch-${++this.#epochs}`, history: [], acked: new Set(), subscribers: new Set() }))
    return topic
  }

  #member(socket: FakeSocket): PresenceMember {
    return { clientId: socket.clientId, online: true, lastSeen: Date.now() }
  }

  #handle(socket: FakeSocket, frame: ClientFrame): void {
    switch (frame.type) {
      case 'ping':
        return socket.deliver({ type: 'pong', ts: frame.ts ?? Date.now() })
      case 'subscribe': {
        const topic = this.#topic(frame.topic)
        let replay: StoredMessage[] = []
        let recovered = true
        if (frame.since !== undefined) {
          const since = frame.since
          // Another epoch, or a head below `since`: the numbering restarted, nothing to replay.
          if ((frame.epoch === undefined || frame.epoch === topic.epoch) && since <= topic.seq) {
            replay = topic.history.filter((m) => m.seq > since)
            recovered = since === topic.seq || (topic.history[0]?.seq ?? Infinity) <= since + 1
          } else recovered = false
        } else if (frame.history) replay = topic.history.slice(-frame.history)
        for (const m of replay) socket.deliver({ type: 'message', ...m })
        if (!socket.topics.has(frame.topic)) {
          for (const other of topic.subscribers) other.deliver({ type: 'presence', topic: frame.topic, event: 'join', member: this.#member(socket) })
        }
        topic.subscribers.add(socket)
        socket.topics.add(frame.topic)
        return socket.deliver({
          type: 'subscribed',
          topic: frame.topic,
          seq: topic.seq,
          epoch: topic.epoch,
          recovered,
          presence: [...topic.subscribers].map((s) => this.#member(s)),
        })
      }
      case 'unsubscribe':
        this.#leave(socket, frame.topic)
        return socket.deliver({ type: 'unsubscribed', topic: frame.topic })
      case 'publish': {
        if (frame.ephemeral) {
          const ts = Date.now()
          for (const other of this.#topic(frame.topic).subscribers) {
            if (other !== socket) other.deliver({ type: 'message', topic: frame.topic, id: frame.id, data: frame.data, from: socket.clientId, ts, ephemeral: true })
          }
          return socket.deliver({ type: 'ack', id: frame.id })
        }
        const message = this.#store(frame.topic, frame.id, frame.data, socket.clientId)
        return socket.deliver({ type: 'ack', id: frame.id, seq: message.seq, epoch: message.epoch })
      }
      case 'request': {
        const handler = this.handlers[frame.method]
        if (!handler) return socket.deliver({ type: 'response', id: frame.id, error: { code: 'not_found', message: `no method ${frame.method}` } })
        return socket.deliver({ type: 'response', id: frame.id, data: handler(frame.data) })
      }
    }
  }

  #store(name: string, id: string | number, data: unknown, from: string): StoredMessage {
    const topic = this.#topic(name)
    const duplicate = topic.acked.has(id) ? topic.history.find((m) => m.id === id) : undefined
    if (duplicate) return duplicate
    const message: StoredMessage = { topic: name, seq: ++topic.seq, epoch: topic.epoch, id, data, from, ts: Date.now() }
    topic.history.push(message)
    topic.acked.add(id)
    if (topic.history.length > HISTORY) topic.acked.delete(topic.history.shift()!.id)
    for (const socket of topic.subscribers) socket.deliver({ type: 'message', ...message })
    return message
  }

  #leave(socket: FakeSocket, name: string): void {
    const topic = this.#topics.get(name)
    socket.topics.delete(name)
    if (!topic?.subscribers.delete(socket)) return
    for (const other of topic.subscribers) other.deliver({ type: 'presence', topic: name, event: 'leave', member: this.#member(socket) })
  }
}
