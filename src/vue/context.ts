/**
 * How the Vue layer finds its connection manager, and whether it runs during server rendering.
 * Kept apart from the plugin so that a `useWebSocket`-only bundle carries neither the plugin
 * nor its devtools layer.
 */
import { hasInjectionContext, inject, ssrContextKey, type InjectionKey } from 'vue'
import { getDefaultManager, type ConnectionManager } from '../core'

/** Injection key of the app's `ConnectionManager` (provided by `createRealtime`). */
export const realtimeKey = (process.env.NODE_ENV !== 'production' ? Symbol('vue-realtime') : Symbol()) as InjectionKey<ConnectionManager>

/** Injection key of the app's default URL (the `url` option of `createRealtime`). */
export const realtimeUrlKey = (process.env.NODE_ENV !== 'production' ? Symbol('vue-realtime url') : Symbol()) as InjectionKey<string | undefined>

/**
 * True while a component renders on the server (`renderToString` provides the SSR context),
 * or when there is no `window` at all and no manager was given explicitly.
 */
export function isServerRendering(): boolean {
  return hasInjectionContext() && inject(ssrContextKey, null) != null
}

/**
 * The manager to use: the explicit one, else the app's (inside a component or app context),
 * else the lazily created client-side default. `undefined` during server rendering and in a
 * window-less environment without a plugin: the caller then constructs nothing.
 */
export function resolveManager(explicit?: ConnectionManager): ConnectionManager | undefined {
  if (isServerRendering()) return undefined
  if (explicit) return explicit
  const injected = hasInjectionContext() ? inject(realtimeKey, undefined) : undefined
  if (injected) return injected
  if (typeof window === 'undefined') return undefined
  return getDefaultManager()
}
