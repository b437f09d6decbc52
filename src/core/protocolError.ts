/** An error the server sent (`error` frame or `response.error`), or a client-side timeout/close. */
export class RealtimeProtocolError extends Error {
  constructor(
    /** Protocol error code (`forbidden`, `invalid_topic`, `timeout`, `closed`...). */
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options)
    this.name = 'RealtimeProtocolError'
  }
}

/** Refusals that say "retry later": the server could not do it now (its store is away or full, or a rate window is spent). */
const RETRY_LATER: ReadonlySet<string> = new Set(['internal', 'server_full', 'too_many_new_topics'])

/** Did the server refuse for now ("retry later"), so that asking again later may work? */
export function isRetryLater(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' && RETRY_LATER.has(code)
}

/**
 * When a frame refused for now is written again: 1 s, doubling to 5 s, each at a random point of
 * its window (so clients refused together spread out). Capped low: the store comes back without
 * telling the clients, and a refusal costs the server little (its store call fails at once).
 */
export const RETRY_LATER_SCHEDULE = { minDelay: 1_000, maxDelay: 5_000, factor: 2, jitter: 0 } as const
