/**
 * Event-driven waits for tests against real sockets. Every wait is bounded and fails with an
 * error that says what was awaited and for how long, never with a bare vitest timeout.
 */
import type { EventEmitter } from 'node:events'

export interface WaitForOptions {
  /** Give up after this long, ms. @default 5_000 */
  timeout?: number
  /** Poll the predicate this often, ms. @default 10 */
  interval?: number
  /** Names the awaited condition in the timeout error (a function: read when the wait gives up, so it can show the state then). */
  message?: string | (() => string)
}

const DEFAULT_TIMEOUT = 5_000
const DEFAULT_INTERVAL = 10

/**
 * Resolves with the predicate's first truthy value. The predicate may be async; a throwing
 * predicate is retried (the last error is reported if the wait times out).
 */
export function waitFor<T>(
  predicate: () => T | Promise<T>,
  { timeout = DEFAULT_TIMEOUT, interval = DEFAULT_INTERVAL, message }: WaitForOptions = {},
): Promise<NonNullable<T>> {
  const started = Date.now()
  return new Promise((resolve, reject) => {
    let lastError: unknown
    const check = async (): Promise<void> => {
      try {
        const value = await predicate()
        if (value) return resolve(value as NonNullable<T>)
      } catch (error) {
        lastError = error
      }
      if (Date.now() - started >= timeout) {
        const what = (typeof message === 'function' ? message() : message) ?? predicate.toString().slice(0, 120)
        const why = lastError ? ` (last error: ${String((lastError as Error)?.message ?? lastError)})` : ''
        return reject(new Error(`waitFor timed out after ${timeout} ms waiting for: ${what}${why}`))
      }
      setTimeout(check, interval)
    }
    void check()
  })
}

/** Anything with `on`/`off` (Node EventEmitter, `ws`, `net.Socket`) or `addEventListener`. */
type Emitter =
  | Pick<EventEmitter, 'once' | 'off'>
  | { addEventListener(type: string, fn: (ev: unknown) => void): void; removeEventListener(type: string, fn: (ev: unknown) => void): void }

export interface OnceOptions {
  /** Reject on an `error` event. @default true, except when waiting for `close` (which follows an error) */
  failOnError?: boolean
}

/**
 * Resolves with the first argument of the next `event` (all arguments as an array when there
 * are several). Rejects after `timeout` ms, or on `error` (see `failOnError`).
 */
export function once<T = unknown>(
  emitter: Emitter,
  event: string,
  timeout = DEFAULT_TIMEOUT,
  { failOnError = event !== 'close' }: OnceOptions = {},
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onEvent = (...args: unknown[]): void => {
      cleanup()
      resolve((args.length > 1 ? args : args[0]) as T)
    }
    const onError = (error: unknown): void => {
      cleanup()
      reject(error instanceof Error ? error : new Error(`'error' while waiting for '${event}': ${String(error)}`))
    }
    const timer = setTimeout(() => {
      cleanup()
      reject(new Error(`once: no '${event}' event within ${timeout} ms`))
    }, timeout)
    const listenError = failOnError && event !== 'error'
    const cleanup = (): void => {
      clearTimeout(timer)
      if ('off' in emitter) {
        emitter.off(event, onEvent)
        if (listenError) emitter.off('error', onError)
      } else {
        emitter.removeEventListener(event, onEvent)
        if (listenError) emitter.removeEventListener('error', onError)
      }
    }
    if ('once' in emitter) {
      emitter.once(event, onEvent)
      if (listenError) emitter.once('error', onError)
    } else {
      emitter.addEventListener(event, onEvent)
      if (listenError) emitter.addEventListener('error', onError)
    }
  })
}
