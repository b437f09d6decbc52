/**
 * The tab protocol: the messages the tabs sharing one socket exchange over a BroadcastChannel
 * (or a SharedWorker's ports). Every message is structured-cloneable. Leader messages carry the
 * leadership epoch `e` and the leader's id `from`; a tab follows the greatest (e, from) it has
 * heard and drops anything older, so a deposed leader that wakes up changes nothing.
 */
import type { CloseInfo, ConnectionState, RealtimeErrorInfo, SendResult, WebSocketData } from '../types'

/**
 * Version of this protocol, part of every group's name: a tab built against another version
 * forms its own group (its own socket) instead of misreading this one's messages.
 */
export const TABS_PROTOCOL = 2

/** The name of a group's lock and channel: protocol version, connection key, optional name. */
export function groupName(connectionKey: string, name?: string): string {
  return `vue-realtime.tabs.v${TABS_PROTOCOL} ${connectionKey}${name ? ` ${name}` : ''}`
}

/** What the leader shares of its connection's state (everything but this tab's own counters). */
export type SharedState = Omit<ConnectionState, 'role' | 'uncertain' | 'error'> & {
  error: Pick<RealtimeErrorInfo, 'kind' | 'message'> | null
  /** The subprotocol the server selected, for the `open` event of tabs that join later. */
  protocol: string
  /** The leader emitted `open` for the socket open now (tabs that missed it emit their own). */
  opened: boolean
  /** The last command a leader carried out, carried from term to term (see `CommandRecord`). */
  command: CommandRecord | null
}

/**
 * An `open()`, `close()` or `reconnect()` a tab's user made, for every tab. Commands are ordered
 * by (`at`, `from`); a leader carries out one only if it is later than the last it carried out,
 * and each tab asserts the latest it knows to every leader that knows an older one, so a command
 * posted to a leader that went before reading it, or made while no tab led, is not lost, and an
 * earlier one never undoes a later one.
 */
export interface CommandRecord {
  op: Command
  code?: number
  reason?: string
  /** Wall clock (ms) when it was made, above every command its tab knew of then. */
  at: number
  /** The tab that made it. */
  from: string
}

/** Is command `a` later than `b` (or is there no `b`)? */
export function laterCommand(a: CommandRecord, b: CommandRecord | null | undefined): boolean {
  return !b || a.at > b.at || (a.at === b.at && a.from > b.from)
}

interface FromLeader {
  /** Leadership epoch. */
  e: number
  /** The leader's tab id. */
  from: string
}

/** Leader → tabs. */
export type LeaderMessage = FromLeader &
  (
    | { t: 'lead'; state: SharedState; stolen: boolean }
    /** The state, to a tab that said hello; `handled`: the last of its sends this term handled. */
    | { t: 'snap'; to: string; state: SharedState; handled?: number }
    | { t: 'state'; state: SharedState }
    | { t: 'frames'; data: unknown[]; to?: string[] }
    | { t: 'open'; protocol: string }
    | { t: 'close'; info: CloseInfo }
    | { t: 'error'; error: Pick<RealtimeErrorInfo, 'kind' | 'message'> }
    | { t: 'ok'; to: string; id: number; result: SendResult }
    /** The outcome of a tab's `sendFrame`: written on the socket in hand, or not. */
    | { t: 'wrote'; to: string; id: number; written: boolean }
    /** The outbox emptied; `handled`: by tab, the last of its sends this term handled. */
    | { t: 'flushed'; handled?: Record<string, number> }
    /**
     * By tab, its sends that left the outbox to make room for a new one (their ttl ran out, or
     * the overflow strategy dropped them), counted there: each tab forgets exactly those instead
     * of guessing (its clock and the leader's disagree on when a ttl runs out after a pause).
     * Before the `ok` of the send that made room. `dropped`: the term's count with them, so a tab
     * that forgets them has them counted even if the leader is gone before its next `state`.
     * Tabs of an older build ignore it.
     */
    | { t: 'gone'; ids: Record<string, number[]>; dropped: number }
    | { t: 'beat' }
    | { t: 'pong'; to: string }
    /**
     * The term ended. By tab: `handled`, the last of its sends this term handled; `unsent`, those
     * of them still queued, never written. `counted`: the term's final counters.
     */
    | { t: 'bye'; unsent?: Record<string, number[]>; handled?: Record<string, number>; counted?: Pick<SharedState, 'received' | 'sent' | 'dropped'> }
  )

export type Command = 'open' | 'close' | 'reconnect'

/**
 * Tab → leader (and, for `token`, → every tab). A message to a term names it by its epoch `e`
 * and its leader `to`: two leaders may share an epoch (a tab that missed a term can be elected
 * with that term's number, the clock set back meanwhile), and a hub takes only what was meant
 * for it (a tab of an older build of this protocol sends no `to`).
 */
export type TabMessage =
  | { t: 'hello'; from: string; visible: boolean; alive?: boolean }
  /** Visibility; `alive`: the tab holds its own lock now (the leader may wait for it to learn of a crash). */
  | { t: 'vis'; from: string; visible: boolean; alive?: boolean }
  | { t: 'leave'; from: string }
  | { t: 'send'; e: number; to?: string; from: string; id: number; data: WebSocketData; volatile?: boolean; ttl?: number }
  /** `sendFrame`: written once on the leader's socket in hand, or reported unwritten; never carried to another socket. */
  | { t: 'frame'; e: number; to?: string; from: string; id: number; data: WebSocketData }
  | { t: 'cmd'; e: number; to?: string; from: string; command: CommandRecord }
  | { t: 'token'; from: string; token: string | null }
  | { t: 'ping'; e: number; from: string }

export type WireMessage = LeaderMessage | TabMessage

const LEADER_TYPES = new Set(['lead', 'snap', 'state', 'frames', 'open', 'close', 'error', 'ok', 'wrote', 'flushed', 'gone', 'beat', 'pong', 'bye'])

export function isLeaderMessage(message: WireMessage): message is LeaderMessage {
  return LEADER_TYPES.has(message.t)
}

/**
 * Is leadership (e1, from1) newer than (e2, from2)? Ties on the epoch (two tabs elected in the
 * same millisecond) break on the id; a null `from2` (no leader since the last one left) loses them.
 */
export function newer(e1: number, from1: string, e2: number, from2: string | null): boolean {
  return e1 > e2 || (e1 === e2 && (from2 === null || from1 > from2))
}

/** A frame a tab encoded itself: the leader writes it as is, without its serializer. */
export class Encoded {
  constructor(readonly data: WebSocketData) {}
}

/** A random id for a tab (per connection per page). */
export function tabId(): string {
  const c = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto
  return c?.randomUUID ? c.randomUUID() : `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`
}

/** The state a leader posts: cloneable (no error `cause`, which may be an Event). */
export function shareState(state: ConnectionState, protocol: string, opened: boolean, command: CommandRecord | null): SharedState {
  const { role: _role, uncertain: _uncertain, error, ...rest } = state
  return { ...rest, error: error && { kind: error.kind, message: error.message }, protocol, opened: opened && state.status === 'open', command }
}
