/**
 * The one protocol server of this Nitro process (`realtime.server`), made on first use, with the
 * options of the app's `server/realtime.config.ts`. With the default memory engine its history
 * lives in this process's memory: see the SSR and Nuxt guide for what that means.
 */
import type { RealtimeHooks } from 'vue-realtime/server/crossws'
import { useRuntimeConfig } from 'nitropack/runtime'
import config from '#vue-realtime/server-config'
import { singleServer } from './single'

const single = singleServer(config, () => (useRuntimeConfig() as { realtimeServer?: { protocolHeader?: boolean } }).realtimeServer?.protocolHeader ?? false)

/**
 * The protocol server behind the module's route: publish from your server code
 * (`useRealtimeServer().publish('room:1', data)`), read its clients and presence.
 */
export function useRealtimeServer(): RealtimeHooks {
  return single.use()
}

/** Closes the server if one was made, then the engine its options passed (Nitro's `close` hook). */
export function closeRealtimeServer(): Promise<void> {
  return single.close()
}
