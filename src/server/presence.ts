import type { PresenceMember } from '../core/protocol'
import type { ClientConnection } from './client'
import type { ServerContext } from './context'
import type { PresenceEvent } from './engine'

/** Silent this many heartbeat intervals: shown offline (one ping late, with slack for jitter). */
export const OFFLINE_AFTER_INTERVALS = 1.5
/** Silent this many heartbeat intervals: terminated (two pings missed). */
export const TERMINATE_AFTER_INTERVALS = 2
/** Liveness is checked this many times per interval, so detection lags by at most a quarter. */
const SWEEPS_PER_INTERVAL = 4

export function memberOf<User>(client: ClientConnection<User>): PresenceMember<User> {
  const member: PresenceMember<User> = { clientId: client.id, online: client.online, lastSeen: client.lastSeen }
  if (client.user !== undefined) member.user = client.user
  return member
}

/**
 * Connection liveness and what presence shows of it: marks members offline and online from
 * their last inbound frame (announced through the engine, so every node's subscribers hear
 * it), and terminates clients silent for two heartbeat intervals. Members themselves live in
 * the engine. Owns one interval timer, started by `start()` and cleared by `stop()`.
 */
export class Presence<User> {
  private timer: ReturnType<typeof setInterval> | null = null

  constructor(
    private readonly ctx: ServerContext<User>,
    private readonly clients: ReadonlyMap<string, ClientConnection<User>>,
  ) {}

  /** The topic's members across nodes (empty when presence is off). */
  async members(topic: string): Promise<PresenceMember<User>[]> {
    if (!this.ctx.limits.presence) return []
    return (await this.ctx.engine.members(topic)) as PresenceMember<User>[]
  }

  /** Tells every subscriber of the client's topics that it went online or offline. */
  private announce(client: ClientConnection<User>, event: PresenceEvent): void {
    if (!this.ctx.limits.presence) return
    for (const topic of client.present) {
      this.ctx.engine.announce(topic, event, memberOf(client)).catch((error: unknown) => this.ctx.report(error, `announcing "${event}" on "${topic}"`))
    }
  }

  /** An inbound frame: the client is alive. */
  touch(client: ClientConnection<User>): void {
    client.lastSeen = this.ctx.now()
    if (!client.online) {
      client.online = true
      this.announce(client, 'online')
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
        this.announce(client, 'offline')
      }
    }
  }
}
