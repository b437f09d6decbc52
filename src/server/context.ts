import type { RateLimit } from './limits'
import type { Emitter } from './emitter'
import type { HistoryStore } from './store'
import type { RealtimeServerEvents, RealtimeServerOptions } from './types'

/** Options after defaults, shared by the server's parts. */
export interface ResolvedLimits {
  heartbeatInterval: number
  maxPayload: number
  rateLimit: RateLimit | false
  maxTopicsPerConnection: number
  replayLimit: number
  dedupeWindow: number
  maxBufferedAmount: number
  presence: boolean
}

/** What every part of one server shares: limits, store, hooks, clock, events. */
export interface ServerContext<User> {
  readonly limits: ResolvedLimits
  readonly store: HistoryStore
  readonly options: RealtimeServerOptions<User>
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
  historyLimit: 1000,
  replayLimit: 1000,
  dedupeWindow: 1000,
  // A client that lets 8 MiB pile up is not reading; keeping more only grows server memory.
  maxBufferedAmount: 8 * 1024 * 1024,
  closeTimeout: 2000,
} as const
