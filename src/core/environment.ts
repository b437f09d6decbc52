import type { EnvironmentEvent, RealtimeEnvironment } from './types'

interface EventTargetLike {
  addEventListener(type: string, listener: (event: { persisted?: boolean }) => void): void
  removeEventListener(type: string, listener: (event: { persisted?: boolean }) => void): void
}

/** The browser's `window` and `document`, when they exist (never on the server). */
function browserTargets(): { win: EventTargetLike; doc: EventTargetLike & { visibilityState?: string } } | null {
  const g = globalThis as { window?: unknown; document?: unknown }
  if (typeof g.window !== 'object' || g.window === null || typeof g.document !== 'object' || g.document === null) {
    return null
  }
  const win = g.window as Partial<EventTargetLike>
  if (typeof win.addEventListener !== 'function') return null
  return { win: win as EventTargetLike, doc: g.document as EventTargetLike & { visibilityState?: string } }
}

/**
 * Listens to the browser's online/offline, visibilitychange and pagehide/pageshow events.
 * One DOM listener set per subscriber; the returned remover removes exactly those.
 */
function subscribeToBrowser(listener: (event: EnvironmentEvent) => void): () => void {
  const targets = browserTargets()
  if (!targets) return () => {}
  const { win, doc } = targets
  const online = () => listener({ type: 'online' })
  const offline = () => listener({ type: 'offline' })
  const visibility = () => listener({ type: doc.visibilityState === 'hidden' ? 'hidden' : 'visible' })
  const pagehide = (e: { persisted?: boolean }) => listener({ type: 'pagehide', persisted: e.persisted === true })
  const pageshow = (e: { persisted?: boolean }) => listener({ type: 'pageshow', persisted: e.persisted === true })
  win.addEventListener('online', online)
  win.addEventListener('offline', offline)
  doc.addEventListener('visibilitychange', visibility)
  win.addEventListener('pagehide', pagehide)
  win.addEventListener('pageshow', pageshow)
  return () => {
    win.removeEventListener('online', online)
    win.removeEventListener('offline', offline)
    doc.removeEventListener('visibilitychange', visibility)
    win.removeEventListener('pagehide', pagehide)
    win.removeEventListener('pageshow', pageshow)
  }
}

/**
 * The environment the core runs in: the given overrides over the globals. In Node and on
 * the server there are no browser events; `isOnline` and `isVisible` are then always true.
 * Timers are looked up at call time so fake timers installed after creation still apply.
 */
export function resolveEnvironment(overrides: Partial<RealtimeEnvironment> = {}): RealtimeEnvironment {
  const g = globalThis as {
    navigator?: { onLine?: boolean }
    document?: { visibilityState?: string }
    WebSocket?: RealtimeEnvironment['WebSocket']
  }
  return {
    WebSocket: overrides.WebSocket ?? g.WebSocket,
    setTimeout: overrides.setTimeout ?? ((fn, ms) => setTimeout(fn, ms)),
    clearTimeout: overrides.clearTimeout ?? ((handle) => clearTimeout(handle as ReturnType<typeof setTimeout>)),
    now: overrides.now ?? (() => Date.now()),
    random: overrides.random ?? Math.random,
    isOnline: overrides.isOnline ?? (() => g.navigator?.onLine !== false),
    isVisible: overrides.isVisible ?? (() => g.document?.visibilityState !== 'hidden'),
    subscribe: overrides.subscribe ?? subscribeToBrowser,
  }
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
