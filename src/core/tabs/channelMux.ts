/**
 * Channels across tabs (connections that speak `vue-realtime.v1`): the leader's hub runs every
 * frame of the shared socket through this mux, so that each tab's protocol client sees exactly
 * the stream a socket of its own would carry, and the tabs' subscriptions add up on one socket.
 *
 * - Each tab keeps its own `since` and epoch: its `subscribe` goes upstream as is (the server
 *   allows a held topic to be subscribed again and replays from the new `since`); the answer
 *   (`subscribed`, or an `error` about that subscribe) goes to that tab only, in the server's
 *   order; and until it comes, that tab gets the topic's messages only as the replay its own
 *   subscribe asked for (`since` < seq ≤ head), never live ones that would skip what it missed.
 *   A topic's frames go only to the tabs whose subscribe the socket answered, as a socket of
 *   their own would: a tab that has not (re)joined on this socket never sees a later seq first.
 * - Subscriptions are counted across tabs: a tab's `unsubscribe` goes upstream only when no
 *   other tab holds the topic, and a tab that leaves releases its topics.
 * - The last `welcome` is given to a tab that joins an open socket.
 * - An `error` that answers a publish or a request (it carries a `ref`, the frame's id) goes only
 *   to the tabs that wrote a frame with that id on this socket, as a socket of their own would
 *   carry it; an error whose `ref` no tab wrote here, and one without `ref`, goes to every tab.
 * Publishes, acks and responses pass as they are: acks go to every tab and settle in the one
 * that has the id; publishes keep their ids across a hand-over, which the server dedupes.
 */
import type { WebSocketData } from '../types'

/** Where one inbound frame goes: to these tabs, or (without `to`) to every tab. */
export interface Delivery {
  raw: string
  to?: string[]
}

interface Join {
  since?: number
  history?: number
}

interface TabTopic {
  /** Subscribes of this tab waiting for their answer, oldest first. */
  joins: Join[]
  /** Has the socket answered a subscribe of this tab (live messages flow to it)? */
  answered: boolean
  /** Messages seen while a join waits, by seq: its replay is taken from here. */
  buffer: Map<number, string>
}

/** A subscribe written upstream and not answered yet: whose, and of which holding of the topic. */
interface InFlight {
  tab: string
  /** The tab's holding of the topic the subscribe belongs to (one let go since is not the tab's current one). */
  state: TabTopic
  /** The tab left: the answer goes nowhere. */
  gone: boolean
}

interface Frame {
  type?: unknown
  id?: unknown
  ref?: unknown
  topic?: unknown
  seq?: unknown
  since?: unknown
  history?: unknown
  frame?: unknown
}

/** The frames whose `id` an answer names: an `ack` or `response`, or an `error` by its `ref`. */
type Asked = 'publish' | 'request'

/** Key of a frame id, as the protocol client keys it (a number and its string are two ids). */
const idKey = (kind: Asked, id: unknown): string | undefined =>
  typeof id === 'string' || typeof id === 'number' ? `${kind}:${typeof id}:${id}` : undefined

function parse(data: unknown): Frame | undefined {
  if (typeof data !== 'string' || data[0] !== '{') return undefined
  try {
    const frame = JSON.parse(data) as unknown
    return typeof frame === 'object' && frame !== null ? (frame as Frame) : undefined
  } catch {
    return undefined
  }
}

export class ChannelMux {
  /** Tabs holding each topic. */
  readonly #topics = new Map<string, Map<string, TabTopic>>()
  /**
   * Per topic, every subscribe written upstream and not answered yet, in order. The server
   * answers each once, in order, so an entry stays until its answer comes, even when its tab let
   * the topic go or left: else that answer would be taken for the next subscribe's.
   */
  readonly #awaiting = new Map<string, InFlight[]>()
  /**
   * By publish or request id, the tab of every frame with that id written on this socket and not
   * answered yet, in order: an error naming that id goes to them. Ended with the socket.
   */
  readonly #asked = new Map<string, string[]>()
  #welcome: string | null = null
  readonly #write: (frame: string) => void

  /** @param write writes a frame upstream (the socket of the hub). */
  constructor(write: (frame: string) => void) {
    this.#write = write
  }

  /** A tab's outbound frame: false when it must not be written (an unsubscribe other tabs still need). */
  outbound(tab: string, data: WebSocketData): boolean {
    const frame = parse(data)
    if (frame?.type === 'publish' || frame?.type === 'request') {
      const key = idKey(frame.type, frame.id)
      if (key !== undefined) this.#asked.set(key, [...(this.#asked.get(key) ?? []), tab])
      return true
    }
    if (typeof frame?.topic !== 'string') return true
    const topic = frame.topic
    if (frame.type === 'subscribe') {
      const tabs = this.#topics.get(topic) ?? new Map<string, TabTopic>()
      this.#topics.set(topic, tabs)
      let state = tabs.get(tab)
      if (!state) tabs.set(tab, (state = { joins: [], answered: false, buffer: new Map() }))
      state.joins.push({
        since: typeof frame.since === 'number' ? frame.since : undefined,
        history: typeof frame.history === 'number' ? frame.history : undefined,
      })
      const awaiting = this.#awaiting.get(topic) ?? []
      this.#awaiting.set(topic, awaiting)
      awaiting.push({ tab, state, gone: false })
      return true
    }
    if (frame.type === 'unsubscribe') {
      const tabs = this.#topics.get(topic)
      tabs?.delete(tab)
      if (tabs && tabs.size > 0) return false
      this.#topics.delete(topic)
    }
    return true
  }

  /** An inbound frame: where it goes (possibly nowhere yet, possibly with a replay before it). */
  inbound(raw: unknown): Delivery[] {
    if (typeof raw !== 'string') return [{ raw: raw as string }]
    const frame = parse(raw)
    if (frame?.type === 'ack') this.#forget(idKey('publish', frame.id))
    else if (frame?.type === 'response') this.#forget(idKey('request', frame.id))
    // An error answering a publish or request goes to the tab that has its id, wherever the topic is held.
    else if (frame?.type === 'error' && frame.frame !== 'subscribe' && frame.ref !== undefined) return this.#refused(raw, frame)
    const topic = typeof frame?.topic === 'string' ? frame.topic : undefined
    if (!frame || topic === undefined) {
      if (frame?.type === 'welcome') this.#welcome = raw
      return [{ raw }]
    }
    if (frame.type === 'subscribed' || (frame.type === 'error' && frame.frame === 'subscribe')) return this.#answer(topic, raw, frame)
    if (frame.type === 'error') return [{ raw }]
    return this.#topical(topic, raw, frame)
  }

  /** What a tab joining an open socket is owed: the server's `welcome`. */
  joined(tab: string): Delivery[] {
    return this.#welcome ? [{ raw: this.#welcome, to: [tab] }] : []
  }

  /**
   * The socket in hand ended: what it answered, and the subscribes it never answered, end with
   * it. Every tab joins the next socket anew (its protocol client subscribes again on `open`),
   * and no answer on that socket is taken for a subscribe written on this one.
   */
  reset(): void {
    this.#awaiting.clear()
    this.#asked.clear()
    this.#welcome = null
    for (const tabs of this.#topics.values()) {
      for (const state of tabs.values()) {
        state.joins = []
        state.answered = false
        state.buffer.clear()
      }
    }
  }

  /** A frame of `tab` that was not written after all (no open socket): a subscribe among them waits for no answer. */
  unwritten(tab: string, data: WebSocketData): void {
    const frame = parse(data)
    if (frame?.type === 'publish' || frame?.type === 'request') return this.#forget(idKey(frame.type, frame.id), tab)
    if (frame?.type !== 'subscribe' || typeof frame.topic !== 'string') return
    this.#topics.get(frame.topic)?.get(tab)?.joins.pop()
    const awaiting = this.#awaiting.get(frame.topic) ?? []
    for (let at = awaiting.length - 1; at >= 0; at--) {
      if (awaiting[at].tab !== tab) continue
      awaiting.splice(at, 1)
      break
    }
  }

  /** A tab is gone: its topics are released (unsubscribed upstream when no other tab holds them). */
  left(tab: string): void {
    for (const [topic, tabs] of this.#topics) {
      if (!tabs.delete(tab) || tabs.size > 0) continue
      this.#topics.delete(topic)
      this.#write(JSON.stringify({ type: 'unsubscribe', topic }))
    }
    // Its subscribes written upstream are still answered, in their turn: to nobody now.
    for (const awaiting of this.#awaiting.values()) for (const entry of awaiting) if (entry.tab === tab) entry.gone = true
  }

  /**
   * An error that answers the frame with id `ref`: to the tabs that wrote it (one that left since
   * drops it). One whose id no tab wrote on this socket as a publish or request (a raw send queued
   * across sockets, a frame of another type) goes to every tab, as it always did.
   */
  #refused(raw: string, frame: Frame): Delivery[] {
    const kinds: Asked[] = frame.frame === 'publish' ? ['publish'] : frame.frame === 'request' ? ['request'] : ['publish', 'request']
    const keys = kinds.map((kind) => idKey(kind, frame.ref)).filter((key) => key !== undefined && this.#asked.has(key))
    if (keys.length === 0) return [{ raw }]
    const to = new Set<string>()
    for (const key of keys) {
      for (const tab of this.#asked.get(key!)!) to.add(tab)
      this.#forget(key)
    }
    return [{ raw, to: [...to] }]
  }

  /** Drops one writer of `key` (answered, or not written after all): `tab`'s last, or (without `tab`) the oldest. */
  #forget(key: string | undefined, tab?: string): void {
    const tabs = key === undefined ? undefined : this.#asked.get(key)
    if (!tabs) return
    const at = tab === undefined ? 0 : tabs.lastIndexOf(tab)
    if (at >= 0) tabs.splice(at, 1)
    if (tabs.length === 0) this.#asked.delete(key!)
  }

  /** A message (or presence, unsubscribed...) of `topic`: to the tabs the socket answered; kept for those still joining. */
  #topical(topic: string, raw: string, frame: Frame): Delivery[] {
    const to: string[] = []
    for (const [tab, state] of this.#topics.get(topic) ?? []) {
      if (frame.type === 'message' && state.joins.length > 0 && typeof frame.seq === 'number') state.buffer.set(frame.seq, raw)
      if (state.answered) to.push(tab)
    }
    return to.length > 0 ? [{ raw, to }] : []
  }

  /**
   * The answer to the oldest subscribe of `topic`: the replay its tab asked for, then the answer,
   * to that tab only. An answer to a subscribe of a holding the tab let go goes to that tab alone
   * (its protocol client knows it for an earlier subscription's), and changes nothing here.
   */
  #answer(topic: string, raw: string, frame: Frame): Delivery[] {
    const awaiting = this.#awaiting.get(topic)
    const entry = awaiting?.shift()
    if (awaiting?.length === 0) this.#awaiting.delete(topic)
    if (entry === undefined) return [{ raw }]
    if (entry.gone) return []
    const tab = entry.tab
    const state = this.#topics.get(topic)?.get(tab)
    if (state !== entry.state) return [{ raw, to: [tab] }]
    const join = state.joins.shift()!
    const deliveries: Delivery[] = []
    if (frame.type === 'subscribed') {
      const head = typeof frame.seq === 'number' ? frame.seq : 0
      const from = join.since ?? head - (join.history ?? 0)
      const replay = [...state.buffer].filter(([seq]) => seq > from && seq <= head).sort(([a], [b]) => a - b)
      for (const [, message] of replay) deliveries.push({ raw: message, to: [tab] })
      state.answered = true
    } else if (!state.answered && state.joins.length === 0) {
      this.#topics.get(topic)!.delete(tab)
    }
    if (state.joins.length === 0) state.buffer.clear()
    deliveries.push({ raw, to: [tab] })
    return deliveries
  }
}
