import { backoffDelay } from './backoff'
import type { Connection } from './connection'
import type { FrameId } from './protocol'
import { RealtimeProtocolError, RETRY_LATER_SCHEDULE } from './protocolError'
import type { RealtimeEnvironment, TimerHandle } from './types'

/** How long `publish` and `request` wait for the server's answer by default, ms. */
export const DEFAULT_ANSWER_TIMEOUT = 10_000

/** A pending answer's key: publishes and requests are told apart (an ack never settles a request). */
export const keyOf = (kind: 'publish' | 'request', id: FrameId): string => `${kind}:${typeof id}:${id}`

interface Waiter {
  timer: TimerHandle
  resolve(value: unknown): void
  reject(error: RealtimeProtocolError): void
}

/** How a frame is carried across reconnects. */
export interface AnswerKind {
  /** Stored publishes are resent after a reconnect (the server dedupes); requests and ephemeral publishes are not: they may have run. */
  resend: boolean
  /** The topic of a publish (its ack tells the topic's epoch). */
  topic?: string
}

interface Pending extends AnswerKind {
  frame: string
  /** Written on the socket in hand. */
  sent: boolean
  /** Every call waiting for this answer; each has its own timeout. */
  waiters: Set<Waiter>
  /** The server's last "retry later" refusal of it (what a caller that times out is told). */
  refusal?: RealtimeProtocolError
}

/**
 * The publishes and requests of one `ProtocolClient` that wait for the server's answer: each
 * frame written once per socket, resent after a reconnect when that is safe, settled once by
 * its answer, and each caller's own timeout. Owns every timer it starts.
 */
export class PendingAnswers {
  readonly #pending = new Map<string, Pending>()
  /**
   * Writes the publishes refused for now again, and those made since, in the order they were
   * made (one timer for all, so a retry never overtakes an earlier publish); undefined: none waits.
   */
  #retry: TimerHandle | undefined = undefined
  /** Refusals for now since the last ack (the backoff's attempt). */
  #refusals = 0

  constructor(
    private readonly connection: Connection,
    private readonly env: RealtimeEnvironment,
  ) {}

  get size(): number {
    return this.#pending.size
  }

  /** How many publishes wait for an ack, by topic (read by devtools). */
  publishesByTopic(): Map<string, number> {
    const counts = new Map<string, number>()
    for (const entry of this.#pending.values()) {
      if (entry.topic !== undefined) counts.set(entry.topic, (counts.get(entry.topic) ?? 0) + 1)
    }
    return counts
  }

  /** The topic of the publish waiting under `key`, if one is. */
  topicOf(key: string): string | undefined {
    return this.#pending.get(key)?.topic
  }

  has(key: string): boolean {
    return this.#pending.has(key)
  }

  /**
   * Sends `frame` (now if the link is open, else on the next open) and resolves with its answer.
   * The same key again joins the frame in flight: one frame, one answer for every caller.
   */
  track<R>(key: string, frame: object, timeout = DEFAULT_ANSWER_TIMEOUT, kind: AnswerKind, what: string): Promise<R> {
    let text: string
    try {
      text = JSON.stringify(frame)
    } catch (cause) {
      return Promise.reject(
        new TypeError(`vue-realtime: ${what} could not be JSON-encoded (${(cause as Error).message}); send plain data.`, { cause }),
      )
    }
    const { status } = this.connection.state
    if (status === 'closed' || status === 'failed') {
      return Promise.reject(new RealtimeProtocolError(status, `vue-realtime: ${what} failed: the connection is ${status}. Call open() or reconnect() first.`))
    }
    return new Promise<R>((resolve, reject) => {
      let entry = this.#pending.get(key)
      const fresh = !entry
      entry ??= { frame: text, sent: false, ...kind, waiters: new Set() }
      const waiter: Waiter = {
        resolve: resolve as (value: unknown) => void,
        reject,
        timer: this.env.setTimeout(() => {
          // Only this caller gives up; the frame stays while anyone else waits for its answer.
          entry.waiters.delete(waiter)
          if (entry.waiters.size === 0 && this.#pending.get(key) === entry) this.#drop(key)
          const { refusal } = entry
          reject(
            refusal
              ? new RealtimeProtocolError(
                  refusal.code,
                  `${refusal.message}. Written again after each refusal, it was not accepted within ${timeout} ms; retry later with the same id.`,
                  { cause: refusal },
                )
              : new RealtimeProtocolError(
                  'timeout',
                  `vue-realtime: ${what} got no answer within ${timeout} ms (connection ${this.connection.state.status}). ` +
                    'It may still arrive; retry with the same id to avoid a duplicate.',
                ),
          )
        }, timeout),
      }
      entry.waiters.add(waiter)
      if (!fresh) return
      this.#pending.set(key, entry)
      // Behind publishes waiting to be written again after a refusal: in order, with them.
      if (this.connection.state.status === 'open' && !(entry.resend && this.#retry !== undefined)) this.#send(entry)
    })
  }

  /** The answer to `key` arrived: every caller waiting for it settles. False if none waited. */
  settle(key: string, outcome: { value: unknown } | { error: RealtimeProtocolError }): boolean {
    const entry = this.#pending.get(key)
    if (!entry) return false
    this.#drop(key)
    if (!('error' in outcome)) this.#refusals = 0
    for (const waiter of entry.waiters) {
      this.env.clearTimeout(waiter.timer)
      if ('error' in outcome) waiter.reject(outcome.error)
      else waiter.resolve(outcome.value)
    }
    return true
  }

  /**
   * The server refused `key` for now ("retry later"): it is written again after a backoff, on
   * this socket or the next one, until it is acked or its callers' timeouts end it (they are told
   * the refusal). Publishes made meanwhile wait and go after it, in order. Only what is safe to
   * resend waits so (stored publishes, which the server dedupes); false otherwise, and the
   * caller settles it with the refusal.
   */
  refusedForNow(key: string, error: RealtimeProtocolError): boolean {
    const entry = this.#pending.get(key)
    if (!entry?.resend) return false
    entry.refusal = error
    entry.sent = false
    if (this.#retry === undefined) {
      this.#retry = this.env.setTimeout(() => {
        this.#retry = undefined
        if (this.connection.state.status === 'open') this.#resend()
      }, backoffDelay(++this.#refusals, RETRY_LATER_SCHEDULE, this.env.random))
    }
    return true
  }

  rejectAll(code: string, why: string): void {
    for (const key of [...this.#pending.keys()]) {
      this.settle(key, { error: new RealtimeProtocolError(code, `vue-realtime: ${why} before the server answered.`) })
    }
  }

  /** A socket opened: send, in order, what was never written and what is safe to resend. */
  opened(): void {
    this.#cancelRetry()
    for (const entry of this.#pending.values()) {
      if (!entry.sent || entry.resend) this.#send(entry)
    }
  }

  /** The socket was lost: what was written and must not run twice is reported lost; the rest waits. */
  lost(): void {
    // The next open writes everything again, in order: no retry waits on a socket that is gone.
    this.#cancelRetry()
    for (const [key, entry] of [...this.#pending]) {
      if (!entry.sent || entry.resend) {
        entry.sent = false
        continue
      }
      this.settle(key, {
        error: new RealtimeProtocolError(
          'connection_lost',
          key.startsWith('publish:')
            ? 'vue-realtime: the connection was lost before the server acked the ephemeral publish; it may or may not have been delivered, and is never resent.'
            : 'vue-realtime: the connection was lost before the server answered the request; it may or may not have run.',
        ),
      })
    }
  }

  #drop(key: string): void {
    this.#pending.delete(key)
    if (this.#pending.size === 0) this.#cancelRetry()
  }

  /** Writes what waits on this socket (refused for now, or made since), in the order made. */
  #resend(): void {
    for (const entry of this.#pending.values()) if (entry.resend && !entry.sent) this.#send(entry)
  }

  #cancelRetry(): void {
    if (this.#retry === undefined) return
    this.env.clearTimeout(this.#retry)
    this.#retry = undefined
  }

  #send(entry: Pending): void {
    // Written once on this socket (after a probe or a drain if need be), or reported unwritten
    // when the socket is lost first: then the next open sends it again.
    this.connection.sendFrame(entry.frame, (written) => {
      entry.sent = written
    })
  }
}
