import type { PresenceFrame, PresenceMember } from '../core/protocol'
import type { ClientConnection } from './client'
import type { ServerContext } from './context'

/** Silent this many heartbeat intervals: shown offline (one ping late, with slack for jitter). */
export const OFFLINE_AFTER_INTERVALS = 1.5
/** Silent this many heartbeat intervals: terminated (two pings missed). */
export const TERMINATE_AFTER_INTERVALS = 2
/** Liveness is checked this many times per interval, so detection lags by at most a quarter. */
const SWEEPS_PER_INTERVAL = 4

export type PresenceEvent = PresenceFrame['event']

/** Finds the subscribers of a topic; the topic registry provides it. */
export type SubscribersOf<User> = (topic: string) => ReadonlySet<ClientConnection<User>> | undefined

export function memberOf<User>(client: ClientConnection<User>): PresenceMember<User> {
  const member: PresenceMember<User> = { clientId: client.id, online: client.online, lastSeen: client.lastSeen }
  if (client.user !== undefined) member.user = client.user
  return member
}

/**
 * Presence per topic (members = subscribers) and connection liveness: marks members offline
 * and online from their last inbound frame, and terminates clients silent for two heartbeat
 * intervals. Owns one interval timer, started by `start()` and cleared by `stop()`.
 */
export class Presence<User> {
  private timer: ReturnType<typeof setInterval> | null = null

  constructor(
    private readonly ctx: ServerContext<User>,
    private readonly clients: ReadonlyMap<string, ClientConnection<User>>,
    private readonly subscribersOf: SubscribersOf<User>,
  ) {}

  members(topic: string): PresenceMember<User>[] {
    if (!this.ctx.limits.presence) return []
    return [...(this.subscribersOf(topic) ?? [])].map(memberOf)
  }

  /** Tells the other subscribers of `topic` about `client`. */
  announce(topic: string, event: PresenceEvent, client: ClientConnection<User>): void {
    if (!this.ctx.limits.presence) return
    const subscribers = this.subscribersOf(topic)
    if (!subscribers) return
    const text = JSON.stringify({ type: 'presence', topic, event, member: memberOf(client) } satisfies PresenceFrame<User>)
    for (const other of subscribers) if (other !== client) other.sendText(text)
  }

  /** An inbound frame: the client is alive. */
  touch(client: ClientConnection<User>): void {
    client.lastSeen = this.ctx.now()
    if (!client.online) {
      client.online = true
      for (const topic of client.topics) this.announce(topic, 'online', client)
    }
  }

  start(): void {
    const interval = this.ctx.limits.heartbeatInterval
    this.timer = setInterval(() => this.sweep(), Math.max(1, interval / SWEEPS_PER_INTERVAL))
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
  }

  sweep(): void {
    const now = this.ctx.now()
    const interval = this.ctx.limits.heartbeatInterval
    for (const client of this.clients.values()) {
      const silent = now - client.lastSeen
      if (silent > TERMINATE_AFTER_INTERVALS * interval) {
        // Silent that long: the link is dead, so no close handshake would get through.
        client.terminate()
      } else if (client.online && silent > OFFLINE_AFTER_INTERVALS * interval) {
        client.online = false
        for (const topic of client.topics) this.announce(topic, 'offline', client)
      }
    }
  }
}
