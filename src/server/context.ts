import type { Emitter } from './emitter'
import type { RealtimeEngine } from './engine'
import type { RateLimit } from './limits'
import type { NewTopicLimit, RealtimeProtocolOptions, RealtimeServerEvents } from './types'

/** Options after defaults, shared by the server's parts. */
export interface ResolvedLimits {
  heartbeatInterval: number
  maxPayload: number
  rateLimit: RateLimit | false
  maxTopicsPerConnection: number
  newTopicLimit: NewTopicLimit | false
  replayLimit: number
  replayMaxBytes: number
  maxDepth: number
  maxBufferedAmount: number
  presence: boolean
}

/** What every part of one server shares: limits, engine, hooks, clock, events. */
export interface ServerContext<User> {
  readonly limits: ResolvedLimits
  readonly engine: RealtimeEngine
  /** The transport's upgrade request type is unknown here: only the gate reads it. */
  readonly options: RealtimeProtocolOptions<User, never>
  readonly events: Emitter<RealtimeServerEvents<User>>
  now(): number
  /** Reports an unexpected failure through the `error` event (or console.error without listeners). */
  report(error: unknown, what: string): void
}

export const DEFAULTS = {
  heartbeatInterval: 25_000,
  maxPayload: 64 * 1024,
  rateLimit: { messages: 100, perMs: 1000 },
  maxTopicsPerConnection: 100,
  // Twice what one connection may hold: a page creating its topics on a fresh server stays under it; a flood of made-up names does not.
  newTopicLimit: { topics: 200, perMs: 60_000 },
  replayLimit: 1000,
  maxDepth: 64,
  // A client that lets 8 MiB pile up is not reading; keeping more only grows server memory.
  maxBufferedAmount: 8 * 1024 * 1024,
  closeTimeout: 2000,
  // 300 clients come back over 1 s (30 per 100 ms, bench scenario f: peaks 37–41 where the close
  // storm's timer lag adds its own bunching; 400/s peaked at 58–61); a lone one retries at 0,
  // 250, 625, 1,188 ms (scenario c: 1.2 s after a 1 s refusal).
  retryRate: 300,
  retryWindow: 250,
} as const
