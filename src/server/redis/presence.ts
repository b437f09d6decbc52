import { randomUUID } from 'node:crypto'
import type { PresenceMember } from '../../core/protocol'
import type { PresenceEvent } from '../engine'
import type { RedisKeys } from './codec'
import type { RedisConnection } from './connection'
import { SCRIPTS } from './scripts'

/** Dead nodes one reap removes at most (each with all its members): bounds one script's run. */
const REAP_BATCH = 10

/**
 * This node's liveness and its presence members. The node keeps a liveness key with the TTL,
 * renewed every third of it, and its id in the set of nodes; members are stored per topic with
 * their node's id. Every node reaps every third of the TTL: nodes whose key expired lose their
 * members, and a `leave` is published for each, so a killed node's members are gone within
 * about 1.3 TTL. `members()` already leaves out members of an expired node.
 */
export class NodePresence {
  readonly nodeId = randomUUID()
  /** Members announced through this node, per topic: re-joined if Redis forgot this node. */
  private readonly local = new Map<string, Map<string, PresenceMember>>()
  private timer: ReturnType<typeof setInterval> | null = null
  private ticking = false
  private registered = false
  /**
   * Leaves that could not be recorded (Redis was away): written again on every tick and as soon
   * as Redis is back, else the member would stay listed (its node lives on) though it is gone.
   */
  private readonly unsentLeaves = new Map<string, { topic: string; member: PresenceMember; last: boolean }>()

  constructor(
    private readonly redis: RedisConnection,
    private readonly keys: RedisKeys,
    private readonly ttl: number,
    private readonly report: (error: unknown, what: string) => void,
  ) {}

  async start(): Promise<void> {
    await this.beat()
    this.timer = setInterval(() => void this.tick(), Math.max(1, Math.floor(this.ttl / 3)))
  }

  /** Redis is back after a loss: renew this node's registration now (members re-joined if Redis forgot it), not a third of the TTL later. */
  reconnected(): void {
    if (this.timer) void this.tick()
  }

  private async tick(): Promise<void> {
    if (this.ticking) return
    this.ticking = true
    try {
      await this.beat()
      await this.sendLeaves()
      await this.redis.run(SCRIPTS.reap, [this.keys.nodes()], [this.keys.prefix, REAP_BATCH, ''])
    } catch {
      // Redis is away: the node's registration lapses, and is renewed (members re-joined) when it is back.
    } finally {
      this.ticking = false
    }
  }

  private async beat(): Promise<void> {
    const added = await this.redis.run(SCRIPTS.heartbeat, [this.keys.node(this.nodeId), this.keys.nodes()], [this.nodeId, this.ttl])
    // Not registered although it was: reaped after a pause, or Redis lost its data. Its members come back.
    if (added === 1 && this.registered) await this.rejoin()
    this.registered = true
  }

  private async rejoin(): Promise<void> {
    for (const [topic, members] of this.local) {
      for (const member of members.values()) {
        await this.record(topic, 'join', member, false).catch((error: unknown) => this.report(error, `re-joining presence on "${topic}"`))
      }
    }
  }

  private async sendLeaves(): Promise<void> {
    for (const [key, leave] of [...this.unsentLeaves]) {
      await this.record(leave.topic, 'leave', leave.member, leave.last)
      this.unsentLeaves.delete(key)
    }
  }

  async announce(topic: string, event: PresenceEvent, member: PresenceMember): Promise<void> {
    let members = this.local.get(topic)
    let last = false
    if (event === 'join') {
      if (!members) this.local.set(topic, (members = new Map()))
      members.set(member.clientId, member)
    } else if (event === 'leave') {
      if (members?.delete(member.clientId) && members.size === 0) {
        this.local.delete(topic)
        last = true
      }
    } else if (members?.has(member.clientId)) {
      members.set(member.clientId, member)
    }
    const key = `${topic}\n${member.clientId}`
    this.unsentLeaves.delete(key)
    try {
      await this.record(topic, event, member, last)
    } catch (error) {
      if (event === 'leave') this.unsentLeaves.set(key, { topic, member, last })
      throw error
    }
  }

  private async record(topic: string, event: PresenceEvent, member: PresenceMember, last: boolean): Promise<void> {
    await this.redis.run(
      SCRIPTS.announce,
      [this.keys.presence(topic), this.keys.nodeTopics(this.nodeId)],
      [event, member.clientId, this.nodeId, JSON.stringify(member), this.keys.channel(topic), topic, last ? '1' : '0'],
    )
  }

  async members(topic: string): Promise<PresenceMember[]> {
    const reply = (await this.redis.run(SCRIPTS.members, [this.keys.presence(topic)], [this.keys.prefix, this.nodeId])) as string[]
    return reply.map((text) => JSON.parse(text) as PresenceMember)
  }

  /** Stops the timer and removes this node and its members now (a leave for each), best effort. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
    this.local.clear()
    this.unsentLeaves.clear()
    if (!this.registered) return
    await this.redis.run(SCRIPTS.reap, [this.keys.nodes()], [this.keys.prefix, 1, this.nodeId]).catch(() => {})
  }
}
