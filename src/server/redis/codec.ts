import type { PresenceMember } from '../../core/protocol'
import type { EngineEvent, EngineMessage, EnginePublish, PresenceEvent } from '../engine'

/**
 * Key and channel names of one prefix. A topic's keys share the hash tag `{topic}` (topics
 * never contain braces), so one topic's script touches one slot. reap.lua and members.lua build
 * the node, presence and channel names themselves: keep them in step.
 */
export class RedisKeys {
  constructor(readonly prefix: string) {}
  /** Hash: `e` the epoch, `s` the head. */
  meta(topic: string): string {
    return `${this.prefix}{${topic}}:meta`
  }
  /** Stream of the held messages, entry id `<seq>-0`, fields `i` (id key), `h` (header), `d` (data). */
  stream(topic: string): string {
    return `${this.prefix}{${topic}}:log`
  }
  /** Prefix of the dedupe keys: one string key per remembered publish id, value `<epoch>:<seq>`. */
  ids(topic: string): string {
    return `${this.prefix}{${topic}}:id:`
  }
  ephemeral(topic: string, idKey: string): string {
    return `${this.prefix}{${topic}}:eph:${idKey}`
  }
  /** Hash: client id → `<node id>\n<member JSON>`. */
  presence(topic: string): string {
    return `${this.prefix}{${topic}}:presence`
  }
  /** The pub/sub channel of a topic's deliveries. */
  channel(topic: string): string {
    return `${this.prefix}{${topic}}`
  }
  /** Set of the ids of registered nodes (reap.lua removes the dead ones). */
  nodes(): string {
    return `${this.prefix}nodes`
  }
  /** A node's liveness key: it exists while the node renews it within the TTL. */
  node(id: string): string {
    return `${this.prefix}node:${id}`
  }
  /** Set of topics where a node has presence members (what reaping it must visit). */
  nodeTopics(node: string): string {
    return `${this.prefix}node:${node}:topics`
  }
  /** The SCAN pattern of every topic's meta key. */
  metaPattern(): string {
    return `${this.prefix.replace(/[*?[\]\\]/g, '\\$&')}{*}:meta`
  }
  /** The topic of a meta key, or null. */
  topicOfMeta(key: string): string | null {
    const head = `${this.prefix}{`
    return key.startsWith(head) && key.endsWith('}:meta') ? key.slice(head.length, -'}:meta'.length) : null
  }
}

/** What a stored message says besides its position and data: JSON without raw newlines. */
interface Header {
  id: EngineMessage['id']
  from: string
  ts: number
  user?: unknown
}

export function header(message: EnginePublish): string {
  const h: Header = { id: message.id, from: message.from, ts: message.ts }
  if (message.user !== undefined) h.user = message.user
  return JSON.stringify(h)
}

export function fromHeader(topic: string, epoch: string, seq: number, text: string, data: string): EngineMessage {
  const h = JSON.parse(text) as Header
  const message: EngineMessage = { topic, epoch, seq, id: h.id, data, from: h.from, ts: h.ts }
  if (h.user !== undefined) message.user = h.user
  return message
}

/** A stream entry as Redis returns it: `[id, [field, value, ...]]`. */
export type StreamEntry = [string, string[]]

export function fromEntry(topic: string, epoch: string, entry: StreamEntry): EngineMessage {
  const [id, fields] = entry
  let h = '{}'
  let d = 'null'
  for (let i = 0; i < fields.length; i += 2) {
    if (fields[i] === 'h') h = fields[i + 1]
    else if (fields[i] === 'd') d = fields[i + 1]
  }
  return fromHeader(topic, epoch, Number.parseInt(id, 10), h, d)
}

/** The channel payload of an ephemeral message (stored messages are published by publish.lua). */
export function ephemeralPayload(message: EnginePublish): string {
  return `e\n${header(message)}\n${message.data}`
}

/** A delivery read from a topic's channel; `seq` and `epoch` set for stored messages. */
export type Incoming = EngineEvent

/**
 * Decodes a channel payload: `m<seq> <epoch>\n<header>\n<data>` (publish.lua),
 * `e\n<header>\n<data>` (broadcast), `p<event>\n<member>` (announce.lua, reap.lua).
 * Null for anything else (a foreign publisher on our channel).
 */
export function decode(topic: string, payload: string): Incoming | null {
  const first = payload.indexOf('\n')
  if (first < 1) return null
  const kind = payload[0]
  try {
    if (kind === 'p') {
      const member = JSON.parse(payload.slice(first + 1)) as PresenceMember
      return { type: 'presence', topic, event: payload.slice(1, first) as PresenceEvent, member }
    }
    const second = payload.indexOf('\n', first + 1)
    if (second < 0) return null
    const text = payload.slice(first + 1, second)
    const data = payload.slice(second + 1)
    if (kind === 'e') {
      const { epoch: _epoch, seq: _seq, ...message } = fromHeader(topic, '', 0, text, data)
      return { type: 'ephemeral', message }
    }
    if (kind !== 'm') return null
    const space = payload.indexOf(' ')
    const seq = Number.parseInt(payload.slice(1, space), 10)
    if (space < 0 || space > first || !Number.isSafeInteger(seq)) return null
    return { type: 'message', message: fromHeader(topic, payload.slice(space + 1, first), seq, text, data) }
  } catch {
    return null
  }
}
