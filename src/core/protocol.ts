/**
 * The vue-realtime wire protocol, version 1 (see docs/protocol.md): frame types, error and
 * close codes, and pure validators shared by the client and the Node server.
 * No Vue, no Node, no DOM: this file is bundled into browsers.
 */

/** WebSocket subprotocol of this protocol version. */
export const PROTOCOL = 'vue-realtime.v1'

/**
 * Prefix of the optional second subprotocol entry that carries an auth token, for clients
 * that cannot put it in the query string: `new WebSocket(url, [PROTOCOL, TOKEN_PROTOCOL_PREFIX + token])`.
 */
export const TOKEN_PROTOCOL_PREFIX = 'vue-realtime.token.'

/** Topic names: letters, digits and `: _ - . /`, 1 to 128 characters. */
export const TOPIC_PATTERN = /^[A-Za-z0-9:_\-./]{1,128}$/

/** Method names of `request` frames follow the topic rule. */
export const METHOD_PATTERN = TOPIC_PATTERN

/** Longest client message id or request correlation id (string form), characters. */
export const MAX_ID_LENGTH = 128

/** Longest topic epoch, characters. */
export const MAX_EPOCH_LENGTH = 64

/** Codes of `error` frames and of `response.error`. */
export const ErrorCode = {
  /** The text frame is not valid JSON. */
  BadJson: 'bad_json',
  /** Binary frames are not part of the protocol. */
  BinaryNotSupported: 'binary_not_supported',
  /** The frame's `type` is missing or unknown. */
  UnknownType: 'unknown_type',
  /** A field is missing, of the wrong type or out of range. */
  InvalidFrame: 'invalid_frame',
  /** The topic name breaks `TOPIC_PATTERN`. */
  InvalidTopic: 'invalid_topic',
  /** The connection already holds `maxTopicsPerConnection` subscriptions. */
  TooManyTopics: 'too_many_topics',
  /** The connection created more new topics than the server allows per window (`newTopicLimit`); retry later. */
  TooManyNewTopics: 'too_many_new_topics',
  /** The server's engine is at a capacity cap (topics held) and cannot evict; retry later. */
  ServerFull: 'server_full',
  /** `authorize` refused the action. */
  Forbidden: 'forbidden',
  /** Unknown request method (or no request handler). */
  NotFound: 'not_found',
  /** The payload is larger than the server accepts. */
  PayloadTooLarge: 'payload_too_large',
  /** The server failed (store error, request handler threw). */
  Internal: 'internal',
  /** Client-side only: no answer in time. */
  Timeout: 'timeout',
} as const

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode]

/** Close codes the server uses. */
export const CloseCode = {
  /** Normal close. */
  Normal: 1000,
  /** Rate limit or another policy; the reason says which. */
  PolicyViolation: 1008,
  /** A frame exceeded `maxPayload`. */
  MessageTooBig: 1009,
  /** Unexpected server failure. */
  InternalError: 1011,
  /** The server is shutting down or restarting; reconnect later. */
  ServiceRestart: 1012,
  /** Authentication failed (no or bad token). Not retryable without a new token. */
  Unauthorized: 4401,
  /** Origin not in the allowlist, or `authenticate` refused outright. */
  Forbidden: 4403,
} as const

export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode]

/** A client message id or request correlation id. */
export type FrameId = string | number

// ---------------------------------------------------------------------------------------------
// Client → server

export interface SubscribeFrame {
  type: 'subscribe'
  topic: string
  /** Last sequence number the client has seen; the server replays every later one. */
  since?: number
  /**
   * With `since`: the topic epoch that `since` belongs to (from `subscribed`, `message` or
   * `ack`). A different epoch on the server means its numbering restarted: no replay,
   * `recovered: false`. Absent (an older client): `since` is taken to be in the current epoch.
   */
  epoch?: string
  /** Without `since`: replay the last `history` messages. */
  history?: number
}
export interface UnsubscribeFrame {
  type: 'unsubscribe'
  topic: string
}
export interface PublishFrame<T = unknown> {
  type: 'publish'
  topic: string
  /** Client message id, unique per topic (e.g. a UUID); resending it never duplicates. */
  id: FrameId
  data: T
  /** Broadcast only: not stored, no sequence number, no dedupe. */
  ephemeral?: boolean
}
export interface RequestFrame<T = unknown> {
  type: 'request'
  id: FrameId
  method: string
  data?: T
}
export interface PingFrame {
  type: 'ping'
  ts?: number
}

export type ClientFrame =
  | SubscribeFrame
  | UnsubscribeFrame
  | PublishFrame
  | RequestFrame
  | PingFrame

// ---------------------------------------------------------------------------------------------
// Server → client

/** A subscriber of a topic as presence reports it. */
export interface PresenceMember<User = unknown> {
  clientId: string
  user?: User
  /** False once the member has been silent for longer than 1.5 heartbeat intervals. */
  online: boolean
  /** Epoch ms of the member's last inbound frame. */
  lastSeen: number
}

export interface WelcomeFrame<User = unknown> {
  type: 'welcome'
  protocol: typeof PROTOCOL
  clientId: string
  user?: User
  /** Send a `ping` at least this often, ms; silent clients are dropped after 2 intervals. */
  heartbeat: number
}
export interface SubscribedFrame<User = unknown> {
  type: 'subscribed'
  topic: string
  /** Sequence number of the newest message the client has now been sent for the topic (0 = none). */
  seq: number
  /**
   * The topic's epoch: an opaque id of its numbering. Sequence numbers of two epochs are
   * unrelated; resume with `since` only together with this epoch. Absent from servers older
   * than the epoch addition.
   */
  epoch?: string
  /** True when the replay covered everything after `since` (always true without `since`). */
  recovered: boolean
  presence: PresenceMember<User>[]
}
export interface UnsubscribedFrame {
  type: 'unsubscribed'
  topic: string
}
export interface MessageFrame<T = unknown, User = unknown> {
  type: 'message'
  topic: string
  /** Per-topic sequence, from 1, increasing by 1; absent on ephemeral messages. */
  seq?: number
  /** The topic's epoch (see `SubscribedFrame.epoch`); absent on ephemeral messages. */
  epoch?: string
  id: FrameId
  data: T
  /** `clientId` of the publisher, or `'server'`. */
  from: string
  /** The publisher's user, when authenticated. */
  user?: User
  /** Server time of publication, epoch ms. */
  ts: number
  ephemeral?: true
}
export interface AckFrame {
  type: 'ack'
  id: FrameId
  /** The stored message's sequence (absent for ephemeral publishes). */
  seq?: number
  /** The topic's epoch the `seq` belongs to (absent for ephemeral publishes). */
  epoch?: string
}
export interface ResponseFrame<T = unknown> {
  type: 'response'
  id: FrameId
  data?: T
  error?: { code: string; message: string }
}
export interface PongFrame {
  type: 'pong'
  ts: number
}
export interface PresenceFrame<User = unknown> {
  type: 'presence'
  topic: string
  event: 'join' | 'leave' | 'online' | 'offline'
  member: PresenceMember<User>
}
export interface ErrorFrame {
  type: 'error'
  code: string
  message: string
  /** `id` of the frame this answers, when it had one. */
  ref?: FrameId
  /** `type` of the frame this answers, when known. */
  frame?: string
  /** Topic of the frame this answers, when it had one. */
  topic?: string
}

export type ServerFrame =
  | WelcomeFrame
  | SubscribedFrame
  | UnsubscribedFrame
  | MessageFrame
  | AckFrame
  | ResponseFrame
  | PongFrame
  | PresenceFrame
  | ErrorFrame

// ---------------------------------------------------------------------------------------------
// Validation

/** What a validator found wrong; `ref`/`frame`/`topic` are filled in when they could be read. */
export interface FrameError {
  code: ErrorCode
  message: string
  ref?: FrameId
  frame?: string
  topic?: string
}

export type ParseResult<F> = { ok: true; frame: F } | { ok: false; error: FrameError }

type Json = Record<string, unknown>

export function isValidTopic(topic: unknown): topic is string {
  return typeof topic === 'string' && TOPIC_PATTERN.test(topic)
}

export function isFrameId(id: unknown): id is FrameId {
  if (typeof id === 'string') return id.length > 0 && id.length <= MAX_ID_LENGTH
  return typeof id === 'number' && Number.isSafeInteger(id)
}

function isSeq(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
}

/** A topic epoch: 1 to `MAX_EPOCH_LENGTH` characters. */
export function isEpoch(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_EPOCH_LENGTH
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Parses a text frame into a JSON object with a string `type`, or says why not. */
function parseEnvelope(text: string): ParseResult<Json & { type: string }> {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return fail('bad_json', 'Frame is not valid JSON; send one JSON object per text frame.')
  }
  if (!isObject(value)) return fail('invalid_frame', 'Frame must be a JSON object with a "type".')
  if (typeof value.type !== 'string') {
    return fail('unknown_type', 'Frame has no string "type".')
  }
  return { ok: true, frame: value as Json & { type: string } }
}

function fail(code: ErrorCode, message: string, from?: Json): { ok: false; error: FrameError } {
  const error: FrameError = { code, message }
  if (from) {
    if (typeof from.type === 'string') error.frame = from.type.slice(0, 32)
    if (isFrameId(from.id)) error.ref = from.id
    if (isValidTopic(from.topic)) error.topic = from.topic
  }
  return { ok: false, error }
}

function checkTopic(f: Json): FrameError | undefined {
  if (isValidTopic(f.topic)) return undefined
  const error = fail('invalid_topic', 'Topic must match ' + String(TOPIC_PATTERN) + '.', f).error
  // Echoed (to the sender only) so a client can tell which of its subscribes failed.
  if (typeof f.topic === 'string') error.topic = f.topic.slice(0, 128)
  return error
}

/**
 * Validates one text frame from a client. Unknown extra fields are ignored (forward
 * compatibility); the returned frame holds only the known ones.
 */
export function parseClientFrame(text: string): ParseResult<ClientFrame> {
  const envelope = parseEnvelope(text)
  if (!envelope.ok) return envelope
  const f = envelope.frame
  switch (f.type) {
    case 'subscribe': {
      const bad = checkTopic(f)
      if (bad) return { ok: false, error: bad }
      if (f.since !== undefined && !isSeq(f.since)) {
        return fail('invalid_frame', '"since" must be a non-negative integer.', f)
      }
      if (f.history !== undefined && !isSeq(f.history)) {
        return fail('invalid_frame', '"history" must be a non-negative integer.', f)
      }
      if (f.epoch !== undefined && !isEpoch(f.epoch)) {
        return fail('invalid_frame', `"epoch" must be a string of 1-${MAX_EPOCH_LENGTH} characters.`, f)
      }
      const frame: SubscribeFrame = { type: 'subscribe', topic: f.topic as string }
      if (f.since !== undefined) {
        frame.since = f.since as number
        if (f.epoch !== undefined) frame.epoch = f.epoch as string
      } else if (f.history !== undefined) frame.history = f.history as number
      return { ok: true, frame }
    }
    case 'unsubscribe': {
      const bad = checkTopic(f)
      if (bad) return { ok: false, error: bad }
      return { ok: true, frame: { type: 'unsubscribe', topic: f.topic as string } }
    }
    case 'publish': {
      if (!isFrameId(f.id)) {
        return fail('invalid_frame', `"id" must be a string of 1-${MAX_ID_LENGTH} characters or an integer.`, f)
      }
      const bad = checkTopic(f)
      if (bad) return { ok: false, error: bad }
      if (!('data' in f) || f.data === undefined) return fail('invalid_frame', 'Publish needs "data".', f)
      if (f.ephemeral !== undefined && typeof f.ephemeral !== 'boolean') {
        return fail('invalid_frame', '"ephemeral" must be a boolean.', f)
      }
      const frame: PublishFrame = { type: 'publish', topic: f.topic as string, id: f.id, data: f.data }
      if (f.ephemeral === true) frame.ephemeral = true
      return { ok: true, frame }
    }
    case 'request': {
      if (!isFrameId(f.id)) {
        return fail('invalid_frame', `"id" must be a string of 1-${MAX_ID_LENGTH} characters or an integer.`, f)
      }
      if (typeof f.method !== 'string' || !METHOD_PATTERN.test(f.method)) {
        return fail('invalid_frame', '"method" must match ' + String(METHOD_PATTERN) + '.', f)
      }
      return { ok: true, frame: { type: 'request', id: f.id, method: f.method, data: f.data } }
    }
    case 'ping': {
      if (f.ts !== undefined && (typeof f.ts !== 'number' || !Number.isFinite(f.ts))) {
        return fail('invalid_frame', '"ts" must be a number.', f)
      }
      return { ok: true, frame: f.ts === undefined ? { type: 'ping' } : { type: 'ping', ts: f.ts } }
    }
    default:
      return fail('unknown_type', `Unknown frame type "${f.type.slice(0, 32)}".`, f)
  }
}

function isMember(value: unknown): value is PresenceMember {
  return (
    isObject(value) &&
    typeof value.clientId === 'string' &&
    typeof value.online === 'boolean' &&
    typeof value.lastSeen === 'number'
  )
}

const PRESENCE_EVENTS = new Set(['join', 'leave', 'online', 'offline'])

/** Validates one text frame from the server (for clients). */
export function parseServerFrame(text: string): ParseResult<ServerFrame> {
  const envelope = parseEnvelope(text)
  if (!envelope.ok) return envelope
  const f = envelope.frame
  const invalid = (what: string) => fail('invalid_frame', `Bad "${f.type}" frame: ${what}.`, f)
  switch (f.type) {
    case 'welcome':
      if (typeof f.clientId !== 'string') return invalid('no clientId')
      if (typeof f.heartbeat !== 'number') return invalid('no heartbeat')
      return { ok: true, frame: f as unknown as WelcomeFrame }
    case 'subscribed':
      if (!isValidTopic(f.topic) || !isSeq(f.seq) || typeof f.recovered !== 'boolean') {
        return invalid('needs topic, seq and recovered')
      }
      if (f.epoch !== undefined && !isEpoch(f.epoch)) return invalid('bad epoch')
      if (!Array.isArray(f.presence) || !f.presence.every(isMember)) return invalid('bad presence list')
      return { ok: true, frame: f as unknown as SubscribedFrame }
    case 'unsubscribed':
      if (!isValidTopic(f.topic)) return invalid('bad topic')
      return { ok: true, frame: f as unknown as UnsubscribedFrame }
    case 'message':
      if (!isValidTopic(f.topic) || !isFrameId(f.id) || typeof f.from !== 'string') {
        return invalid('needs topic, id and from')
      }
      if (f.seq !== undefined && !isSeq(f.seq)) return invalid('bad seq')
      if (f.epoch !== undefined && !isEpoch(f.epoch)) return invalid('bad epoch')
      if (typeof f.ts !== 'number') return invalid('bad ts')
      return { ok: true, frame: f as unknown as MessageFrame }
    case 'ack':
      if (!isFrameId(f.id) || (f.seq !== undefined && !isSeq(f.seq))) return invalid('needs id, optional seq')
      if (f.epoch !== undefined && !isEpoch(f.epoch)) return invalid('bad epoch')
      return { ok: true, frame: f as unknown as AckFrame }
    case 'response':
      if (!isFrameId(f.id)) return invalid('no id')
      if (f.error !== undefined) {
        if (!isObject(f.error) || typeof f.error.code !== 'string' || typeof f.error.message !== 'string') {
          return invalid('error needs code and message')
        }
      }
      return { ok: true, frame: f as unknown as ResponseFrame }
    case 'pong':
      if (typeof f.ts !== 'number') return invalid('no ts')
      return { ok: true, frame: f as unknown as PongFrame }
    case 'presence':
      if (!isValidTopic(f.topic) || typeof f.event !== 'string' || !PRESENCE_EVENTS.has(f.event)) {
        return invalid('needs topic and event')
      }
      if (!isMember(f.member)) return invalid('bad member')
      return { ok: true, frame: f as unknown as PresenceFrame }
    case 'error':
      if (typeof f.code !== 'string' || typeof f.message !== 'string') return invalid('needs code and message')
      return { ok: true, frame: f as unknown as ErrorFrame }
    default:
      return fail('unknown_type', `Unknown frame type "${f.type.slice(0, 32)}".`, f)
  }
}
