import { randomBytes } from 'node:crypto'
import type { FrameId, PresenceMember } from '../core/protocol'
import type { BroadcastResult, EngineEvent, EngineListener, EnginePublish, EngineUnsubscribe, PresenceEvent } from './engine'

/** Ephemeral ids remembered per engine at most (the oldest are forgotten first). */
export const MAX_EPHEMERAL_IDS = 10_000

/** A new topic epoch: 12 random characters, never reused. */
export function newEpoch(): string {
  return randomBytes(9).toString('base64url')
}

/** An engine option that must be an integer of at least `min`: the value, its default, or a TypeError naming both. */
export function engineInteger(engine: string, name: string, value: number | undefined, fallback: number, min: number): number {
  const result = value ?? fallback
  if (!Number.isSafeInteger(result) || result < min) {
    throw new TypeError(`[vue-realtime/server] ${engine} option "${name}" must be an integer >= ${min}, got ${String(value)}.`)
  }
  return result
}

/** Numbers and strings are different ids: 1 and "1" never collide. */
export function idKey(id: FrameId): string {
  return typeof id === 'number' ? `n${id}` : `s${id}`
}

/**
 * The in-process part of an engine: listeners per topic, presence members per topic, and the
 * short dedupe window of ephemeral ids. It spans every server of ONE process that shares the
 * engine (two servers on one `memoryEngine()` are two nodes); Redis replaces it with pub/sub.
 */
export class LocalHub {
  private readonly listeners = new Map<string, Set<EngineListener>>()
  private readonly present = new Map<string, Map<string, PresenceMember>>()
  /** `topic \0 id` → expiry, epoch ms; one TTL for all, so insertion order is expiry order. */
  private readonly ephemeral = new Map<string, number>()

  constructor(
    private readonly ephemeralDedupeMs: number,
    private readonly now: () => number,
    /** Called when a topic gains its first listener or loses its last one (eviction pins). */
    private readonly onListening: (topic: string, listening: boolean) => void = () => {},
  ) {}

  listening(topic: string): boolean {
    return (this.listeners.get(topic)?.size ?? 0) > 0
  }

  subscribe(topic: string, listener: EngineListener): EngineUnsubscribe {
    // Wrapped, so one listener subscribed twice still gets two independent subscriptions.
    const own: EngineListener = (event) => listener(event)
    let set = this.listeners.get(topic)
    if (!set) {
      set = new Set()
      this.listeners.set(topic, set)
      this.onListening(topic, true)
    }
    set.add(own)
    let done = false
    return async () => {
      if (done) return
      done = true
      const current = this.listeners.get(topic)
      if (!current?.delete(own) || current.size > 0) return
      this.listeners.delete(topic)
      this.onListening(topic, false)
    }
  }

  emit(topic: string, event: EngineEvent): void {
    const set = this.listeners.get(topic)
    if (!set) return
    // A Set iterates safely while a listener unsubscribes during delivery.
    for (const listener of set) listener(event)
  }

  /** Delivers an ephemeral message unless its id was seen on the topic within the window. */
  broadcast(message: EnginePublish): BroadcastResult {
    const now = this.now()
    for (const [key, expires] of this.ephemeral) {
      if (expires > now) break
      this.ephemeral.delete(key)
    }
    const key = `${message.topic}\u0000${idKey(message.id)}`
    if (this.ephemeral.has(key)) return { duplicate: true }
    if (this.ephemeralDedupeMs > 0) {
      this.ephemeral.set(key, now + this.ephemeralDedupeMs)
      if (this.ephemeral.size > MAX_EPHEMERAL_IDS) this.ephemeral.delete(this.ephemeral.keys().next().value as string)
    }
    this.emit(message.topic, { type: 'ephemeral', message })
    return { duplicate: false }
  }

  announce(topic: string, event: PresenceEvent, member: PresenceMember): void {
    let members = this.present.get(topic)
    if (event === 'leave') {
      if (!members?.delete(member.clientId)) return
      if (members.size === 0) this.present.delete(topic)
    } else if (event === 'join') {
      if (!members) {
        members = new Map()
        this.present.set(topic, members)
      }
      members.set(member.clientId, member)
    } else {
      // online / offline update a member; one that already left stays gone.
      if (!members?.has(member.clientId)) return
      members.set(member.clientId, member)
    }
    this.emit(topic, { type: 'presence', topic, event, member })
  }

  members(topic: string): PresenceMember[] {
    return [...(this.present.get(topic)?.values() ?? [])]
  }

  clear(): void {
    this.listeners.clear()
    this.present.clear()
    this.ephemeral.clear()
  }
}
