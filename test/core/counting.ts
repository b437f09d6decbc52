/**
 * Counted environments and sockets: the tests prove "no timer, listener or socket left" by
 * counting what the core takes through its injected environment and WebSocket constructor.
 */
import { createManualEnvironment } from '../../src/core/environment'
import type { EnvironmentEvent, RealtimeEnvironment } from '../../src/core/types'

export type CountingEnvironment = ReturnType<typeof createManualEnvironment> & {
  /** Timers set through this environment and neither fired nor cleared. */
  readonly timers: number
  /** Environment subscriptions not yet removed. */
  readonly listeners: number
}

/**
 * A manual environment (emit online/offline/visibility/page events) whose timers and
 * subscriptions are counted. Timers go through the globals at call time, so fake timers apply.
 */
export function countingEnvironment(base: Partial<RealtimeEnvironment> = {}): CountingEnvironment {
  const manual = createManualEnvironment(base)
  const live = new Set<unknown>()
  const subscriptions = new Set<(event: EnvironmentEvent) => void>()
  const env = manual as CountingEnvironment
  const { setTimeout: set, clearTimeout: clear, subscribe } = manual
  env.setTimeout = (fn, ms) => {
    const handle: unknown = set(() => {
      live.delete(handle)
      fn()
    }, ms)
    live.add(handle)
    return handle
  }
  env.clearTimeout = (handle) => {
    live.delete(handle)
    clear(handle)
  }
  env.subscribe = (listener) => {
    // A wrapper per subscription, so the same listener subscribed twice counts twice.
    const wrapped = (event: EnvironmentEvent) => listener(event)
    subscriptions.add(wrapped)
    const remove = subscribe(wrapped)
    return () => {
      subscriptions.delete(wrapped)
      remove()
    }
  }
  Object.defineProperties(env, {
    timers: { get: () => live.size },
    listeners: { get: () => subscriptions.size },
  })
  return env
}
