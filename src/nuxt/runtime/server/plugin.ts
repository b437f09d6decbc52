/**
 * The module's Nitro plugin:
 * - closes the protocol server with Nitro (every client gets 1012 and reconnects);
 * - resolves the module's route itself. Nitro 2 (h3 1) resolves WebSocket routes under a
 *   non-root `app.baseURL` to the static-asset middleware mounted at that base, so the
 *   upgrade succeeds with no hooks at all (nitrojs/nitro#2347, nuxt/nuxt#29057). The route's
 *   hooks are returned for its own path first; every other path resolves as before.
 */
import { defineNitroPlugin, useRuntimeConfig } from 'nitropack/runtime'
import { closeRealtimeServer, useRealtimeServer } from './instance'
import { joinPath } from '../url'

interface WebSocketOptions {
  resolve?: (info: { request?: { url?: string }; url?: string }) => unknown
}

/** The pathname of a crossws resolve argument (an upgrade request, or a peer with its request). */
function pathnameOf(info: { request?: { url?: string }; url?: string }): string | undefined {
  const url = info.request?.url ?? info.url
  if (!url) return undefined
  try {
    return new URL(url, 'http://localhost').pathname
  } catch {
    return undefined
  }
}

export default defineNitroPlugin((nitroApp) => {
  nitroApp.hooks.hook('close', closeRealtimeServer)

  const config = useRuntimeConfig() as { app?: { baseURL?: string }; public?: { realtime?: { path?: string } } }
  const route = joinPath(config.app?.baseURL ?? '/', config.public?.realtime?.path ?? '/_realtime')
  const app = nitroApp.h3App as { websocket?: WebSocketOptions } | undefined
  const original = app?.websocket
  if (!app || !original || typeof original.resolve !== 'function') return
  const resolveOthers = original.resolve
  const websocket: WebSocketOptions = {
    ...original,
    resolve: (info) => (pathnameOf(info) === route ? useRealtimeServer().hooks : resolveOthers(info)),
  }
  // The preset reads `h3App.websocket` after the plugins ran; h3 defines it as a getter.
  Object.defineProperty(app, 'websocket', { configurable: true, enumerable: true, get: () => websocket })
})
