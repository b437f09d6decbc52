import { withDefaults } from './defaults'
import type { EnvironmentEvent, RealtimeEnvironment } from './types'

interface EventTargetLike {
  addEventListener(type: string, listener: (event: { persisted?: boolean }) => void): void
  removeEventListener(type: string, listener: (event: { persisted?: boolean }) => void): void
}

/**
 * Listens to the browser's online/offline, visibilitychange and pagehide/pageshow events
 * (nothing when there is no `window` and `document`, as on the server). One DOM listener
 * set per subscriber; the returned remover removes exactly those.
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
  ]
  return () => removers.forEach((remove) => remove())
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
      now: () => Date.now(),
      random: Math.random,
      isOnline: () => g.navigator?.onLine !== false,
      isVisible: () => g.document?.visibilityState !== 'hidden',
      subscribe: subscribeToBrowser,
    },
    overrides,
  )
  const clear = env.clearTimeout
  return { ...env, clearTimeout: (handle) => handle != null && clear(handle) }
}

/**
 * A controllable environment for tests and for hosts without DOM events (React Native,
 * Electron main, workers): call `emit` to simulate the browser.
 */
export function createManualEnvironment(
  base: Partial<RealtimeEnvironment> = {},
): RealtimeEnvironment & { emit(event: EnvironmentEvent): void; online: boolean; visible: boolean } {
  const listeners = new Set<(event: EnvironmentEvent) => void>()
  const env = {
    ...resolveEnvironment(base),
    online: true,
    visible: true,
    isOnline: () => env.online,
    isVisible: () => env.visible,
    subscribe(listener: (event: EnvironmentEvent) => void) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    emit(event: EnvironmentEvent) {
      if (event.type === 'online' || event.type === 'offline') env.online = event.type === 'online'
      if (event.type === 'visible' || event.type === 'hidden') env.visible = event.type === 'visible'
      for (const listener of [...listeners]) listener(event)
    },
  }
  return env
}
