/**
 * The Vue plugin: one `ConnectionManager` per app, app-wide connection defaults, every
 * connection closed on `app.unmount()`, and the devtools timeline.
 */
import { hasInjectionContext, inject, type App } from 'vue'
import { ConnectionManager, getDefaultManager } from '../core'
import type { ConnectionOptions } from '../core/types'
import { realtimeKey, realtimeUrlKey } from './context'
import { setupDevtools, type RealtimeDevtools } from './devtools'

/** Options of `createRealtime`: defaults for every connection of the app, plus the plugin's own. */
export interface RealtimeOptions extends ConnectionOptions {
  /** The app's default WebSocket URL, read with `useRealtimeUrl()` (e.g. `useWebSocket(useRealtimeUrl())`). @default undefined */
  url?: string | URL
  /**
   * Devtools timeline of frames in/out, status changes, closes and errors. `true` registers with
   * the Vue Devtools when present (development only); an object with `addTimelineEvent(event)`
   * receives every event (also in production); `false` turns it off.
   * @default true
   */
  devtools?: boolean | RealtimeDevtools
}

/** What `createRealtime` returns: install it with `app.use()`. */
export interface RealtimePlugin {
  install: (app: App) => void
  /** The app's manager (also available as `useRealtime()` inside the app). */
  readonly manager: ConnectionManager
  /** The default URL given to `createRealtime`, as a string. */
  readonly url: string | undefined
}

/**
 * Creates the realtime plugin: `app.use(createRealtime({ url, WebSocket, heartbeat, ... }))`.
 * Every connection option given here is the default of every connection of the app.
 */
export function createRealtime(options: RealtimeOptions = {}): RealtimePlugin {
  const { url, devtools = true, ...defaults } = options
  const manager = new ConnectionManager(defaults)
  const defaultUrl = url === undefined ? undefined : String(url)
  return {
    manager,
    url: defaultUrl,
    install(app) {
      app.provide(realtimeKey, manager)
      app.provide(realtimeUrlKey, defaultUrl)
      const stopDevtools = devtools === false ? undefined : setupDevtools(app, manager, devtools === true ? undefined : devtools)
      app.onUnmount(() => {
        manager.closeAll()
        stopDevtools?.()
      })
    },
  }
}

/**
 * The app's `ConnectionManager` (from `createRealtime`), or the client-side default manager
 * when the plugin is not installed. Call it inside `setup()`, a store or `app.runWithContext()`.
 */
export function useRealtime(): ConnectionManager {
  const injected = hasInjectionContext() ? inject(realtimeKey, undefined) : undefined
  const manager = injected ?? (typeof window === 'undefined' ? undefined : getDefaultManager())
  if (!manager) {
    throw new Error(
      '[vue-realtime] useRealtime() found no connection manager: install the plugin with app.use(createRealtime()) (on the server there is no default manager).',
    )
  }
  return manager
}

/** The default URL given to `createRealtime({ url })`, or undefined. */
export function useRealtimeUrl(): string | undefined {
  return hasInjectionContext() ? inject(realtimeUrlKey, undefined) : undefined
}
