import type { PresenceMember } from '../../core/protocol'
import type { EngineEvent, EngineListener, EngineMessage, EngineUnsubscribe, PresenceEvent } from '../engine'
import { decode, fromEntry, type RedisKeys, type StreamEntry } from './codec'
import type { RedisConnection } from './connection'
import { SCRIPTS } from './scripts'

/**
 * Stored messages one topic may queue while its catch-up read is in flight. Past it the queue
 * is dropped and the next read takes them from the stream instead: memory stays bounded and
 * nothing is lost that the stream still holds.
 */
const MAX_INBOX = 10_000
/** First retry of a failed catch-up read, ms; doubles up to `MAX_RETRY_MS` while Redis is away. */
const RETRY_MS = 250
const MAX_RETRY_MS = 5_000

/** This node's subscription to one topic: its listeners and the last message they were given. */
class Feed {
  readonly listeners = new Set<EngineListener>()
  /** The epoch and seq of the last stored message delivered (null: none known yet). */
  epoch: string | null = null
  seq = 0
  /** Stored messages from the channel not yet delivered, channel order, from `head`. */
  inbox: EngineMessage[] = []
  head = 0
  /** The position is known (the first read after SUBSCRIBE is done); until then deliveries wait. */
  positioned = false
  /** A catch-up read is in flight. */
  reading = false
  /** The next pump reads the stream first (after a re-subscribe, an overflow or a failed read). */
  stale = false
  ready!: Promise<void>
  /**
   * The topic's members as this node's listeners were told them (from the snapshot read at the
   * SUBSCRIBE and every presence event since): what a re-subscribe compares Redis with, since
   * presence events published while the pub/sub connection was away are not delivered again.
   */
  readonly members = new Map<string, PresenceMember>()
  /** Members a presence event told of while a snapshot read was in flight: the event is the newer word on them. */
  touched: Set<string> | null = null
  /** Presence must be compared with Redis again (after a re-subscribe, until that read succeeds). */
  presenceStale = false

  constructor(
    readonly topic: string,
    readonly onMessage: (payload: string) => void,
  ) {}

  get queued(): number {
    return this.inbox.length - this.head
  }

  shift(): void {
    this.head++
    // Compact once the consumed prefix is as long as the rest: shifting stays O(1) amortised.
    if (this.head >= 64 && this.head * 2 >= this.inbox.length) {
      this.inbox = this.inbox.slice(this.head)
      this.head = 0
    }
  }
}

/**
 * The node's topic subscriptions: one channel SUBSCRIBE per topic, whatever the number of
 * listeners. Stored messages are delivered in seq order, exactly once: a message that is not
 * the next one (a channel message was lost, or the pub/sub connection was re-established) makes
 * the node read the topic's stream from its last delivered seq before it goes on, so a lost
 * channel message is late, never missing. A new epoch (Redis lost the topic) is followed from
 * its first held message.
 */
export class TopicFeeds {
  private readonly feeds = new Map<string, Feed>()
  private retryTimer: ReturnType<typeof setTimeout> | null = null
  private retryDelay = RETRY_MS
  private closed = false

  constructor(
    private readonly redis: RedisConnection,
    private readonly keys: RedisKeys,
    /** Stream entries a topic holds at most: the bound of one catch-up read. */
    private readonly keep: number,
    /** The topic's members now (Redis's presence of live nodes). */
    private readonly listMembers: (topic: string) => Promise<PresenceMember[]>,
  ) {}

  async subscribe(topic: string, listener: EngineListener): Promise<EngineUnsubscribe> {
    let feed = this.feeds.get(topic)
    if (!feed) {
      const created: Feed = new Feed(topic, (payload) => this.receive(created, payload))
      this.feeds.set(topic, created)
      created.ready = this.open(created)
      // A feed that failed to open is not reused: the next subscribe tries again.
      created.ready.catch(() => {
        if (this.feeds.get(topic) === created) this.feeds.delete(topic)
      })
      feed = created
    }
    // Wrapped, so one listener subscribed twice gets two independent subscriptions.
    const own: EngineListener = (event) => listener(event)
    feed.listeners.add(own)
    try {
      await feed.ready
    } catch (error) {
      feed.listeners.delete(own)
      throw error
    }
    const subscribed = feed
    let done = false
    return async () => {
      if (done) return
      done = true
      subscribed.listeners.delete(own)
      if (subscribed.listeners.size > 0 || this.feeds.get(topic) !== subscribed) return
      this.feeds.delete(topic)
      await this.redis.unsubscribe(this.keys.channel(topic), subscribed.onMessage)
    }
  }

  /** SUBSCRIBE first, then read the position: whatever is stored after that read reaches the listeners. */
  private async open(feed: Feed): Promise<void> {
    const channel = this.keys.channel(feed.topic)
    await this.redis.subscribe(channel, feed.onMessage)
    try {
      const [epoch, head] = (await this.redis.command(['HMGET', this.keys.meta(feed.topic), 'e', 's'])) as [string | null, string | null]
      feed.epoch = epoch
      feed.seq = epoch ? Number(head ?? 0) : 0
    } catch (error) {
      if (this.feeds.get(feed.topic) === feed) this.feeds.delete(feed.topic)
      await this.redis.unsubscribe(channel, feed.onMessage)
      throw error
    }
    feed.positioned = true
    this.pump(feed)
    // Where presence stands, to tell what a later pub/sub outage made this node miss. Not waited
    // for (the subscribe needs it not), best effort: a failed read leaves it to the events since.
    this.syncPresence(feed, false).catch(() => {})
  }

  /**
   * Reads the topic's members and makes the feed's view of them match, each difference told
   * to the listeners as the presence event that makes it (`tell`): a join (or online/offline)
   * missed, or a leave missed. A member a presence event told of while the read was in flight
   * is left as that event said.
   */
  private async syncPresence(feed: Feed, tell: boolean): Promise<void> {
    const touched = (feed.touched = new Set())
    let now: PresenceMember[]
    try {
      now = await this.listMembers(feed.topic)
    } finally {
      if (feed.touched === touched) feed.touched = null
    }
    if (this.closed || this.feeds.get(feed.topic) !== feed) return
    const seen = new Set<string>()
    for (const member of now) {
      seen.add(member.clientId)
      if (touched.has(member.clientId)) continue
      const known = feed.members.get(member.clientId)
      if (known && known.online === member.online) continue
      const event: PresenceEvent = !known ? 'join' : member.online ? 'online' : 'offline'
      this.tellPresence(feed, event, member, tell)
    }
    for (const [clientId, member] of [...feed.members]) {
      if (!seen.has(clientId) && !touched.has(clientId)) this.tellPresence(feed, 'leave', member, tell)
    }
  }

  /** Records a presence event in the feed's view of the members, and delivers it if `tell`. */
  private tellPresence(feed: Feed, event: PresenceEvent, member: PresenceMember, tell = true): void {
    if (event === 'leave') feed.members.delete(member.clientId)
    else feed.members.set(member.clientId, member)
    feed.touched?.add(member.clientId)
    if (tell) this.emit(feed, { type: 'presence', topic: feed.topic, event, member })
  }

  private receive(feed: Feed, payload: string): void {
    if (this.closed || this.feeds.get(feed.topic) !== feed) return
    const event = decode(feed.topic, payload)
    if (!event) return
    // Ephemeral and presence events are at most once: no order to keep. Presence missed while the
    // pub/sub connection was away is made up by comparing members after the re-subscribe.
    if (event.type === 'presence') return this.tellPresence(feed, event.event, event.member)
    if (event.type !== 'message') return this.emit(feed, event)
    if (feed.queued >= MAX_INBOX) {
      feed.inbox = []
      feed.head = 0
      feed.stale = true
    }
    feed.inbox.push(event.message)
    this.pump(feed)
  }

  private pump(feed: Feed): void {
    if (!feed.positioned || feed.reading || this.closed) return
    if (feed.stale) return this.read(feed)
    while (feed.queued > 0) {
      const message = feed.inbox[feed.head]
      if (message.epoch === feed.epoch && message.seq <= feed.seq) {
        feed.shift()
      } else if (message.epoch === feed.epoch && message.seq === feed.seq + 1) {
        feed.shift()
        this.deliver(feed, message)
      } else {
        // A hole (a lost channel message) or another epoch: the stream says what is stored.
        return this.read(feed)
      }
    }
  }

  /** Reads the stream after the last delivered seq and delivers it; the queued messages it covers are then settled. */
  private read(feed: Feed): void {
    feed.reading = true
    feed.stale = false
    // Messages queued before the read are stored before it: the read holds them, or they are stale.
    const covered = feed.queued
    const { topic } = feed
    this.redis.run(SCRIPTS.catchup, [this.keys.meta(topic), this.keys.stream(topic)], [feed.epoch ?? '', feed.seq, this.keep]).then(
      (reply) => {
        feed.reading = false
        if (this.closed || this.feeds.get(topic) !== feed) return
        const [epoch, head, entries] = reply as [string | null, number, StreamEntry[]]
        if (epoch !== null) {
          if (epoch !== feed.epoch) {
            feed.epoch = epoch
            feed.seq = 0
          }
          for (const entry of entries) {
            const message = fromEntry(topic, epoch, entry)
            if (message.seq > feed.seq) this.deliver(feed, message)
          }
          // Entries older than the stream holds are gone for good; the head is where the topic stands.
          feed.seq = Math.max(feed.seq, head)
        }
        for (let i = 0; i < covered && feed.queued > 0; i++) {
          const message = feed.inbox[feed.head]
          feed.shift()
          if (message.epoch === feed.epoch && message.seq === feed.seq + 1) this.deliver(feed, message)
        }
        this.retryDelay = RETRY_MS
        this.pump(feed)
      },
      () => {
        // Redis is away or refused: read again later (the reconnect also triggers a read).
        feed.reading = false
        feed.stale = true
        this.scheduleRetry()
      },
    )
  }

  private deliver(feed: Feed, message: EngineMessage): void {
    feed.epoch = message.epoch
    feed.seq = message.seq
    this.emit(feed, { type: 'message', message })
  }

  private emit(feed: Feed, event: EngineEvent): void {
    // A Set iterates safely while a listener unsubscribes during delivery.
    for (const listener of feed.listeners) listener(event)
  }

  private scheduleRetry(): void {
    if (this.retryTimer || this.closed) return
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null
      this.retryDelay = Math.min(this.retryDelay * 2, MAX_RETRY_MS)
      for (const feed of this.feeds.values()) {
        if (feed.stale) this.pump(feed)
        this.resyncPresence(feed)
      }
    }, this.retryDelay)
  }

  /**
   * The pub/sub connection is back (and re-subscribed): whatever was published meanwhile is read
   * from the streams, and presence that changed meanwhile is told from the members Redis holds.
   */
  resubscribed(): void {
    for (const feed of this.feeds.values()) {
      feed.stale = true
      this.pump(feed)
      feed.presenceStale = true
      this.resyncPresence(feed)
    }
  }

  /** Compares presence with Redis and tells the difference; retried later while Redis is not there (the other connection may be back later). */
  private resyncPresence(feed: Feed): void {
    if (!feed.positioned || !feed.presenceStale) return
    this.syncPresence(feed, true).then(
      () => {
        feed.presenceStale = false
      },
      () => this.scheduleRetry(),
    )
  }

  async close(): Promise<void> {
    this.closed = true
    if (this.retryTimer) clearTimeout(this.retryTimer)
    this.retryTimer = null
    const feeds = [...this.feeds.values()]
    this.feeds.clear()
    await Promise.all(feeds.map((feed) => this.redis.unsubscribe(this.keys.channel(feed.topic), feed.onMessage)))
  }
}
