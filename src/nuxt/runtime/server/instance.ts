/**
 * The one protocol server of this Nitro process (`realtime.server: true`), made on first use.
 * Its history lives in this process's memory: see the SSR and Nuxt guide for what that means.
 */
import { createRealtimeHooks, type RealtimeHooks } from 'vue-realtime/server/crossws'
import { useRuntimeConfig } from 'nitropack/runtime'

let server: RealtimeHooks | undefined

/**
 * The protocol server behind the module's route: publish from your server code
 * (`useRealtimeServer().publish('room:1', data)`), read its clients and presence.
 */
export function useRealtimeServer(): RealtimeHooks {
  if (!server) {
    const { protocolHeader } = (useRuntimeConfig() as { realtimeServer?: { protocolHeader?: boolean } }).realtimeServer ?? {}
    server = createRealtimeHooks({ protocolHeader: protocolHeader ?? false })
  }
  return server
}

/** Closes the server if one was made (Nitro's `close` hook). */
export async function closeRealtimeServer(): Promise<void> {
  const current = server
  server = undefined
  await current?.close()
}
