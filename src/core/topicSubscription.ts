import { backoffDelay } from './backoff'
import type { AckFrame, MessageFrame, PresenceFrame, PresenceMember, SubscribeFrame, SubscribedFrame } from './protocol'
import { isRetryLater, RETRY_LATER_SCHEDULE } from './protocolError'

/** What `gap` reports: the replay could not cover what this client missed. */
export interface GapInfo {
  topic: string
  /** The last sequence this client had shown (in its previous epoch, when the epoch changed). */
  since: number
  /** The topic's head: the client goes on from here. */
  head: number
  /** The topic's epoch from now on (absent from servers without epochs). */
  epoch?: string
}

/** Callbacks of one subscriber of a topic. */
export interface TopicListener {
  /** One stored message (in sequence order, each once) or ephemeral message. */
  message?(frame: MessageFrame): void
  /** This subscriber joined (and after a reconnect: rejoined). `recovered` false: see `gap`. */
  subscribed?(frame: SubscribedFrame): void
  presence?(frame: PresenceFrame): void
  /** A server error about this topic (e.g. a publish refused with `forbidden`). */
  error?(error: Error): void
  /**
   * The server refused the subscription (`forbidden`, `too_many_topics`...): not subscribed on
   * this socket; the next reconnect asks again, and a refusal that says "retry later"
   * (`internal`, `server_full`, `too_many_new_topics`) is asked again on this socket too, after a
   * backoff. Without it, `error` is called.
   */
  refused?(error: Error): void
  /**
   * Messages were missed and cannot be replayed (the replay after a reconnect fell short, or the
   * topic's epoch changed): from now on the subscriber is not `recovered`; reload a snapshot.
   */
  gap?(info: GapInfo): void
}

/** What the subscription needs from its protocol client. */
export interface TopicLink {
  /** Can a frame be written now? */
  open(): boolean
  send(frame: SubscribeFrame): void
  /** A listener threw: report it, never let it break the subscription. */
  report(error: unknown): void
  /** Runs `fn` after `ms` on the connection's timers; returns its canceller. */
  later(fn: () => void, ms: number): () => void
  /** Uniform in [0, 1) (the connection's `random`). */
  random(): number
}

/** One subscribe in flight: what it asked for. */
type Ask = Pick<SubscribeFrame, 'since' | 'epoch' | 'history'>

interface Member {
  listener: TopicListener
  history: number
  /** Has this subscriber been given its join (history, `subscribed`)? Joined ones follow `lastSeq`. */
  joined: boolean
}

/**
 * Messages held while a subscribe is in flight, at most. A join that outgrows it loses the
 * oldest, which its contiguity check then reports as a gap; it never grows without bound.
 */
const MAX_HELD = 10_000

/** Two epochs that are both known and differ: the topic's numbering restarted. */
const changed = (known: string | undefined, seen: string | undefined): boolean =>
  known !== undefined && seen !== undefined && known !== seen

/**
 * One topic of a `ProtocolClient`: its subscribers, its position in the topic's numbering
 * (epoch, last sequence) and the subscribes in flight on the current socket.
 *
 * Why messages are held while a subscribe is in flight: on one socket the server may still
 * send live messages of an earlier subscription of the topic (or of a previous socket's)
 * before it handles the new subscribe and sends that subscribe's replay. Taking them as they
 * come would make the replay look like duplicates. So every sequenced message is held until
 * the `subscribed` that answers the latest subscribe, then each subscriber gets what it lacks,
 * once, in sequence order: the joined ones everything after their position, a new one the
 * replay (the contiguous run that ends at the head, at most its `history`).
 */
export class TopicSubscription {
  /** Last sequence shown to the joined subscribers (0: none). */
  lastSeq = 0
  /** The epoch `lastSeq` belongs to (undefined: not known, e.g. a server without epochs). */
  epoch: string | undefined
  /** Has a `subscribed` ever arrived? Then (epoch, lastSeq) is a position to resume from. */
  joined = false
  /** Subscribed on the current socket: the latest subscribe was answered, not refused (read by devtools). */
  confirmed = false
  /** The topic's members as of the last answer and the `presence` frames since (read by devtools). */
  members: readonly PresenceMember[] = []

  readonly #members = new Set<Member>()
  /** Subscribes written on the current socket and not answered yet, oldest first. */
  #asked: Ask[] = []
  readonly #held = new Map<number, MessageFrame>()
  /** This round's answer to a resume (`since`). */
  #resumed: { since: number; recovered: boolean } | null = null
  /** Cancels the pending retry of a subscribe refused for now (null: none pending). */
  #retry: (() => void) | null = null
  /** Refusals for now in a row (the retry's backoff attempt). */
  #refusals = 0

  constructor(
    readonly topic: string,
    private readonly link: TopicLink,
  ) {}

  get size(): number {
    return this.#members.size
  }

  /** Subscribes written on the current socket that the server has not answered yet. */
  get unanswered(): number {
    return this.#asked.length
  }

  /** Adds a subscriber; it is given its join once the server answers. Returns its handle for `remove`. */
  add(listener: TopicListener, history: number): object {
    const member: Member = { listener, history: Math.max(0, Math.floor(history)), joined: false }
    this.#members.add(member)
    if (this.link.open()) this.#ask(member.history > 0 ? { history: member.history } : {})
    return member
  }

  /** Removes a subscriber; false if it was not one. */
  remove(handle: object): boolean {
    return this.#members.delete(handle as Member)
  }

  /** The socket opened: resume the joined subscribers from (epoch, lastSeq), join the new ones. */
  rejoin(): void {
    this.#cancelRetry()
    this.confirmed = false
    this.#asked = []
    this.#resumed = null
    if (this.joined) this.#ask({ since: this.lastSeq, ...(this.epoch !== undefined ? { epoch: this.epoch } : {}) })
    const fresh = [...this.#members].filter((m) => !m.joined)
    const history = Math.max(0, ...fresh.map((m) => m.history))
    if (fresh.length > 0 && (!this.joined || history > 0)) this.#ask(history > 0 ? { history } : {})
  }

  /** The socket is gone: its subscribes will never be answered. What was held is kept for the rejoin. */
  lost(): void {
    this.#cancelRetry()
    this.confirmed = false
    this.#asked = []
    this.#resumed = null
  }

  message(frame: MessageFrame): void {
    const { seq } = frame
    // Ephemeral: no sequence, nothing to order; shown as it comes.
    if (seq === undefined) return this.#each(this.#members, (l) => l.message?.(frame))
    if (this.#asked.length > 0) return this.#hold(frame)
    if (!this.joined) return
    if (changed(this.epoch, frame.epoch)) {
      // The numbering restarted while subscribed (an engine lost its data): whatever came
      // before this message in the new epoch is gone. Say so, then follow the new numbering.
      const gap: GapInfo = { topic: this.topic, since: this.lastSeq, head: seq, epoch: frame.epoch! }
      this.#each(this.#joinedMembers(), (l) => l.gap?.(gap))
      this.epoch = frame.epoch
      this.lastSeq = seq - 1
    } else if (seq > this.lastSeq + 1) {
      // A hole in the live stream (a lost fan-out): hold this one and let a resume fill it.
      this.#hold(frame)
      return this.#resume()
    }
    if (seq <= this.lastSeq) return // already shown
    this.lastSeq = seq
    this.epoch ??= frame.epoch
    this.#each(this.#joinedMembers(), (l) => l.message?.(frame))
  }

  /** An ack of a publish to this topic: it tells the topic's current epoch. */
  acked(ack: AckFrame): void {
    if (this.joined && this.#asked.length === 0 && changed(this.epoch, ack.epoch)) this.#resume()
  }

  presence(frame: PresenceFrame): void {
    const others = this.members.filter((member) => member.clientId !== frame.member.clientId)
    this.members = frame.event === 'leave' ? others : [...others, frame.member]
    // New subscribers get the member list with their `subscribed`, which already counts this.
    this.#each(this.#joinedMembers(), (l) => l.presence?.(frame))
  }

  /** A `subscribed`: the answer to the oldest subscribe in flight. */
  answered(frame: SubscribedFrame): void {
    const ask = this.#asked.shift()
    if (!ask) return // not an answer to anything on this socket
    if (ask.since !== undefined) {
      this.#resumed = { since: ask.since, recovered: frame.recovered && !changed(ask.epoch, frame.epoch) }
    }
    if (this.#asked.length === 0) this.#settle(frame)
  }

  /** An `error` answering a subscribe of this topic (`forbidden`, `too_many_topics`...). */
  refused(error: Error): void {
    this.#asked.shift()
    // A later subscribe in flight decides; this one only informs.
    if (this.#asked.length > 0) return this.#each(this.#members, (l) => l.error?.(error))
    // The last answer is the state: the topic is not subscribed on this socket any more.
    this.confirmed = false
    this.#resumed = null
    // What arrived before the refusal and follows on is still shown (and never asked for again here).
    for (const frame of this.#takeHeld()) {
      if (!this.joined || changed(this.epoch, frame.epoch) || frame.seq! <= this.lastSeq) continue
      if (frame.seq !== this.lastSeq + 1) break
      this.lastSeq = frame.seq!
      this.#each(this.#joinedMembers(), (l) => l.message?.(frame))
    }
    this.#each(this.#members, (l) => (l.refused ? l.refused(error) : l.error?.(error)))
    // "Retry later": ask again on this socket (the next open would too, but this socket may last).
    if (isRetryLater(error) && this.#members.size > 0 && this.#retry === null) {
      const delay = backoffDelay(++this.#refusals, RETRY_LATER_SCHEDULE, () => this.link.random())
      this.#retry = this.link.later(() => {
        this.#retry = null
        if (this.#asked.length === 0 && this.#members.size > 0 && this.link.open()) this.rejoin()
      }, delay)
    }
  }

  /** The last subscriber left (or the client went away): no retry is pending any more. */
  dispose(): void {
    this.#cancelRetry()
  }

  /** Any other error about this topic. */
  error(error: Error): void {
    this.#each(this.#members, (l) => l.error?.(error))
  }

  // ── internals ────────────────────────────────────────────────────────────────

  #cancelRetry(): void {
    this.#retry?.()
    this.#retry = null
  }

  #ask(ask: Ask): void {
    // A new subscribe in flight decides now; no retry of an earlier refusal is needed.
    this.#cancelRetry()
    this.#asked.push(ask)
    this.link.send({ type: 'subscribe', topic: this.topic, ...ask })
  }

  #resume(): void {
    if (this.link.open()) this.#ask({ since: this.lastSeq, ...(this.epoch !== undefined ? { epoch: this.epoch } : {}) })
  }

  #hold(frame: MessageFrame): void {
    const seq = frame.seq!
    if (this.#held.has(seq) && !changed(this.#held.get(seq)!.epoch, frame.epoch)) return
    this.#held.set(seq, frame)
    if (this.#held.size > MAX_HELD) this.#held.delete(Math.min(...this.#held.keys()))
  }

  /** What was held, in sequence order. */
  #takeHeld(): MessageFrame[] {
    const held = [...this.#held.values()].sort((a, b) => a.seq! - b.seq!)
    this.#held.clear()
    return held
  }

  /** The answer to the latest subscribe: give every subscriber what it lacks, once, in order. */
  #settle(frame: SubscribedFrame): void {
    const head = frame.seq
    const epoch = frame.epoch ?? this.epoch
    const resumed = this.#resumed
    this.#resumed = null
    // Held frames of another numbering than the head's are of no use any more.
    const held = this.#takeHeld().filter((m) => !changed(epoch, m.epoch))
    const upToHead = held.filter((m) => m.seq! <= head)
    const joined = this.#joinedMembers()
    const fresh = [...this.#members].filter((m) => !m.joined)

    if (this.joined) {
      const since = this.lastSeq
      const switched = changed(this.epoch, frame.epoch)
      // In a new epoch nothing resumes: the client goes on from the new head (and reloads).
      const replay = switched ? [] : upToHead.filter((m) => m.seq! > since)
      // Complete means since+1..head, each once; a head below `since` means the server lost history.
      const recovered = !switched && (resumed?.recovered ?? true) && replay.length === head - since
      // The gap first: what the replay brings (the newest messages) comes after the hole.
      if (!recovered) {
        const gap: GapInfo = { topic: this.topic, since, head, ...(epoch !== undefined ? { epoch } : {}) }
        this.#each(joined, (l) => l.gap?.(gap))
      }
      for (const message of replay) this.#each(joined, (l) => l.message?.(message))
      if (resumed || !recovered) {
        const answer = recovered === frame.recovered ? frame : { ...frame, recovered }
        this.#each(joined, (l) => l.subscribed?.(answer))
      }
    }

    if (fresh.length > 0) {
      // This join's replay: the contiguous run of held messages that ends at the head.
      let start = upToHead.length
      while (start > 0 && upToHead[start - 1].seq === head - (upToHead.length - start)) start--
      const run = upToHead.slice(start)
      const answer = frame.recovered ? frame : { ...frame, recovered: true }
      for (const member of fresh) {
        member.joined = true
        for (const message of run) if (message.seq! > head - member.history) this.#each([member], (l) => l.message?.(message))
        this.#each([member], (l) => l.subscribed?.(answer))
      }
    }

    this.lastSeq = head
    this.epoch = epoch
    this.joined = true
    this.confirmed = true
    this.#refusals = 0
    this.members = frame.presence
    // Anything held past the head is live: on through the live path (it checks for holes).
    for (const message of held) if (message.seq! > head) this.message(message)
  }

  #joinedMembers(): Member[] {
    return [...this.#members].filter((m) => m.joined)
  }

  /** Calls every member's listener; one that throws is reported and the others still run. */
  #each(members: Iterable<Member>, call: (listener: TopicListener) => void): void {
    for (const member of [...members]) {
      // A subscriber removed by an earlier listener's callback is not called any more.
      if (!this.#members.has(member)) continue
      try {
        call(member.listener)
      } catch (error) {
        this.link.report(error)
      }
    }
  }
}
