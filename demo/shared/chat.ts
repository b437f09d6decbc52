/**
 * What the chat site and its server agree on: nickname and room rules, topic names, payloads.
 * Imported by both sides, so no Vue and no Node here.
 */

/** Nicknames: 1–24 ASCII letters, digits, spaces, `_` or `-` (topics are ASCII, see TOPIC_PATTERN). */
export const NICKNAME_PATTERN = /^[A-Za-z0-9 _-]{1,24}$/
/** Room names: 1–32 lowercase letters, digits, `_` or `-`. */
export const ROOM_PATTERN = /^[a-z0-9_-]{1,32}$/
/** Longest chat message, characters. */
export const MAX_TEXT_LENGTH = 2000
/** Rooms every server starts with. */
export const DEFAULT_ROOMS = ['general', 'random'] as const

/** Server-only topic: ephemeral `{ room, seq }` notices, so every client can count unread messages. */
export const LOBBY_TOPIC = 'lobby'

export interface ChatUser {
  name: string
}

/** A stored chat message (`{ text }`) or a server notice (`{ system }`). */
export type ChatPayload = { text: string } | { system: string }
/** Ephemeral payloads on a conversation topic. */
export interface TypingPayload {
  typing: true
}
/** Ephemeral payloads of the lobby and inbox topics. */
export interface HeadNotice {
  /** The conversation's topic. */
  topic: string
  seq: number
}

/** One conversation as the `rooms` request lists it. */
export interface ConversationHead {
  topic: string
  /** Room name, or the other user's nickname for a DM. */
  name: string
  kind: 'room' | 'dm'
  /** Sequence of its newest message (0 = none). */
  head: number
}

/** Trims and checks a nickname; returns it or null. */
export function normalizeNickname(input: unknown): string | null {
  if (typeof input !== 'string') return null
  const name = input.trim().replace(/\s+/g, ' ')
  return NICKNAME_PATTERN.test(name) ? name : null
}

/** Lowercases and checks a room name (a leading `#` is dropped); returns it or null. */
export function normalizeRoom(input: unknown): string | null {
  if (typeof input !== 'string') return null
  const name = input.trim().replace(/^#/, '').toLowerCase().replace(/\s+/g, '-')
  return ROOM_PATTERN.test(name) ? name : null
}

/** Nicknames may hold spaces, topics may not: spaces become dots (which nicknames never contain). */
export function userSlug(name: string): string {
  return name.replace(/ /g, '.')
}

export function slugToName(slug: string): string {
  return slug.replace(/\./g, ' ')
}

export function roomTopic(room: string): string {
  return `room:${room}`
}

/** The DM topic of two users, the same from both sides: `dm:<a>/<b>` with the slugs sorted. */
export function dmTopic(a: string, b: string): string {
  return `dm:${[userSlug(a), userSlug(b)].sort().join('/')}`
}

/** Each user's own topic for DM notices. */
export function inboxTopic(name: string): string {
  return `inbox:${userSlug(name)}`
}

/** The two nicknames of a DM topic, or null. */
export function dmMembers(topic: string): [string, string] | null {
  const match = /^dm:([^/]+)\/([^/]+)$/.exec(topic)
  return match ? [slugToName(match[1]), slugToName(match[2])] : null
}

/** Validates a stored payload (used as `useChannel`'s `parse`). */
export function parseChatPayload(value: unknown): ChatPayload {
  const v = value as Record<string, unknown> | null
  if (v && typeof v.text === 'string' && v.text.length <= MAX_TEXT_LENGTH) return { text: v.text }
  if (v && typeof v.system === 'string') return { system: v.system }
  if (v && v.typing === true) return v as never // ephemeral typing notices pass through to onEphemeral
  throw new TypeError('not a chat message')
}
