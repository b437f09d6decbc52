import { withDefaults } from './defaults'
import { MemoryProfile, type MemoryTab } from './tabs/memory'
import type { EnvironmentEvent, RealtimeEnvironment, TimerHandle } from './types'

interface EventTargetLike {
  addEventListener(type: string, listener: (event: { persisted?: boolean }) => void): void
  removeEventListener(type: string, listener: (event: { persisted?: boolean }) => void): void
}

/**
 * Listens to the browser's online/offline, visibilitychange, pagehide/pageshow and
 * freeze/resume events (nothing when there is no `window` and `document`, as on the server).
 * One DOM listener set per subscriber; the returned remover removes exactly those.
 */
function subscribeToBrowser(listener: (event: EnvironmentEvent) => void): () => void {
  const { window: win, document: doc } = globalThis as { window?: Partial<EventTargetLike>; document?: EventTargetLike & { visibilityState?: string } }
  if (typeof win?.addEventListener !== 'function' || typeof doc !== 'object' || !doc) return () => {}
  const on = (target: EventTargetLike, type: string, handler: (event: { persisted?: boolean }) => void) => {
    target.addEventListener(type, handler)
    return () => target.removeEventListener(type, handler)
  }
  const removers = [
    ...(['online', 'offline'] as const).map((type) => on(win as EventTargetLike, type, () => listener({ type }))),
    ...(['pagehide', 'pageshow'] as const).map((type) =>
      on(win as EventTargetLike, type, (event) => listener({ type, persisted: event.persisted === true })),
    ),
    on(doc, 'visibilitychange', () => listener({ type: doc.visibilityState === 'hidden' ? 'hidden' : 'visible' })),
    ...(['freeze', 'resume'] as const).map((type) => on(doc, type, () => listener({ type }))),
  ]
  return () => removers.forEach((remove) => remove())
}

/** The default wall clock (one function, so every default environment shares one `steadyClock`). */
const wallClock = (): number => Date.now()

const steadyClocks = new WeakMap<() => number, () => number>()

/**
 * `now` made steady, for durations (heartbeat deadlines, ttl, the time spent reconnecting, a
 * leader's silence): it moves with `now`, forward jumps included (a laptop that woke up), but
 * across a step back of the system clock it moves by the monotonic clock (`performance.now()`)
 * instead of stalling every deadline by the step's length. One per `now` function, so every
 * user of one environment measures on the same clock.
 */
export function steadyClock(now: () => number): () => number {
  let steady = steadyClocks.get(now)
  if (!steady) {
    const monotonic = () => (globalThis as { performance?: { now(): number } }).performance?.now() ?? 0
    let last: [raw: number, mono: number] | undefined
    let value = 0
    steady = () => {
      const raw = now()
      const mono = monotonic()
      value = !last ? raw : value + (raw >= last[0] ? raw - last[0] : Math.max(0, mono - last[1]))
      last = [raw, mono]
      return value
    }
    steadyClocks.set(now, steady)
  }
  return steady
}

/**
 * The environment the core runs in: the given overrides over the globals. In Node and on
 * the server there are no browser events; `isOnline` and `isVisible` are then always true.
 * Timers are looked up at call time so fake timers installed after creation still apply.
 * The resolved `clearTimeout` ignores a null handle, so owners can clear unconditionally.
 */
export function resolveEnvironment(overrides: Partial<RealtimeEnvironment> = {}): RealtimeEnvironment {
  const g = globalThis as {
    navigator?: { onLine?: boolean }
    document?: { visibilityState?: string }
    WebSocket?: RealtimeEnvironment['WebSocket']
  }
  const env = withDefaults<RealtimeEnvironment>(
    {
      WebSocket: g.WebSocket,
      setTimeout: (fn, ms) => setTimeout(fn, ms),
      clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
      now: wallClock,
      random: Math.random,
      isOnline: () => g.navigator?.onLine !== false,
      isVisible: () => g.document?.visibilityState !== 'hidden',
      subscribe: subscribeToBrowser,
      // `locks` and `BroadcastChannel` default to the globals in the tab code (src/core/tabs), their only user.
    },
    overrides,
  )
  const clear = env.clearTimeout
  return { ...env, clearTimeout: (handle) => handle != null && clear(handle) }
}

/** A manual environment: one simulated tab, driven by the test. */
export interface ManualEnvironment extends RealtimeEnvironment {
  /** Simulates a browser event (and updates `online` / `visible`). */
  emit(event: EnvironmentEvent): void
  online: boolean
  visible: boolean
  /** The simulated browser profile whose in-memory locks and channels this tab uses. */
  readonly profile: MemoryProfile
  /** This tab in `profile`: `pause()`/`resume()` it (as a debugger would), or `crash()` it. */
  readonly tab: MemoryTab
}

/**
 * A controllable environment for tests and for hosts without DOM events (React Native,
 * Electron main, workers): call `emit` to simulate the browser. Each one is a tab of
 * `profile` (a fresh one by default), with in-memory Web Locks and BroadcastChannel, so several
 * tabs of one profile can share a socket in one process; its timers stop while the tab is
 * paused and for good once it crashed.
 */
export function createManualEnvironment(base: Partial<RealtimeEnvironment> = {}, profile = new MemoryProfile()): ManualEnvironment {
  const listeners = new Set<(event: EnvironmentEvent) => void>()
  const tab = profile.tab()
  const resolved = resolveEnvironment({ locks: tab.locks, BroadcastChannel: tab.BroadcastChannel, ...base })
  // Timers not cleared yet: one that fired while the tab was paused waits for it to resume,
  // and clearing it meanwhile cancels it, as in a browser (a queued timer task checks first).
  const armed = new Set<TimerHandle>()
  const env: ManualEnvironment = {
    ...resolved,
    setTimeout: (fn, ms) => {
      const handle = resolved.setTimeout(() => tab.run(() => armed.delete(handle) && fn()), ms)
      armed.add(handle)
      return handle
    },
    clearTimeout: (handle) => {
      armed.delete(handle)
      resolved.clearTimeout(handle)
    },
    profile,
    tab,
    online: true,
    visible: true,
    isOnline: () => env.online,
    isVisible: () => env.visible,
    subscribe(listener: (event: EnvironmentEvent) => void) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    emit(event: EnvironmentEvent) {
      if (tab.crashed) return
      if (event.type === 'online' || event.type === 'offline') env.online = event.type === 'online'
      if (event.type === 'visible' || event.type === 'hidden') env.visible = event.type === 'visible'
      // A paused tab handles the event when it resumes.
      tab.run(() => {
        for (const listener of [...listeners]) listener(event)
      })
    },
  }
  return env
}
