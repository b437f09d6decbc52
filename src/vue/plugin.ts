/**
 * The Vue plugin: one `ConnectionManager` per app, app-wide connection defaults, every
 * connection closed on `app.unmount()`, and the devtools (development only).
 */
import { hasInjectionContext, inject, type App } from 'vue'
import { ConnectionManager, getDefaultManager } from '../core'
import type { ConnectionOptions } from '../core/types'
import { realtimeKey, realtimeUrlKey } from './context'
import { setupDevtools, type RealtimeDevtools } from './devtools'
import { tokenOption, type TokenSource } from './token'

/** Options of `createRealtime`: defaults for every connection of the app, plus the plugin's own. */
export interface RealtimeOptions extends Omit<ConnectionOptions, 'token'> {
  /**
   * The app's default WebSocket URL, read with `useRealtimeUrl()` (e.g. `useWebSocket(useRealtimeUrl())`);
   * every `useChannel` without its own `url` connects here. @default undefined
   */
  url?: string | URL
  /**
   * Auth token of every connection of the app, sent as the subprotocol
   * `vue-realtime.token.<token>` after the connection's own subprotocols (never in the URL, a
   * key, the store or devtools). A ref or getter is read again before every connection attempt,
   * so a refreshed token is used on the next reconnect. A consumer's own `token` overrides it.
   * @default undefined
   */
  token?: TokenSource
  /**
   * Devtools, in development builds only (production builds contain none of it): `true`
   * registers a timeline layer (frames in/out, status changes, closes and errors, grouped per
   * connection attempt) and an inspector (connections and their channels) with the Vue
   * Devtools when present; an object with `addTimelineEvent(event)` also receives every
   * timeline event (a logger, a test); `false` turns it off.
   * @default true
   */
  devtools?: boolean | RealtimeDevtools
  /**
   * Use this manager instead of creating one (the Nuxt module passes one that stays inert on
   * the server and opens nothing before the app is mounted). The connection options given here
   * are then ignored: the manager has its own defaults.
   * @default a new `ConnectionManager` with the connection options given here
   */
  manager?: ConnectionManager
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
  const { url, devtools = true, token, manager: given, ...defaults } = options
  const manager = given ?? new ConnectionManager(token === undefined ? defaults : { ...defaults, token: tokenOption(token) })
  const defaultUrl = url === undefined ? undefined : String(url)
  return {
    manager,
    url: defaultUrl,
    install(app) {
      app.provide(realtimeKey, manager)
      app.provide(realtimeUrlKey, defaultUrl)
      // Inline guard: bundlers fold it, and drop the devtools folder from production builds.
      const stopDevtools =
        process.env.NODE_ENV !== 'production' && devtools !== false
          ? setupDevtools(app, manager, devtools === true ? undefined : devtools)
          : undefined
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
