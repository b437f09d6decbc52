/**
 * The one protocol server of a Nitro process, made on first use from the options file's default
 * export, and closed with its engine. Kept apart from instance.ts (which reads the Nitro virtual
 * module and the runtime config) so that it runs in tests.
 */
import { createRealtimeHooks, type RealtimeHooks } from 'vue-realtime/server/crossws'
import type { RealtimeNuxtServerConfig } from './config'

/** The module's server, made by `use()` and closed by `close()`. */
export interface SingleServer {
  /** The server, made with the options on the first call. Throws when the options are not an object. */
  use(): RealtimeHooks
  /**
   * Closes the server if one was made, then the `engine` the options passed (made when the
   * options file was loaded, so closed even when no server was). A later `use()` makes a new
   * server.
   */
  close(): Promise<void>
}

/** The options file's default export, checked: an object, as `defineRealtimeServerConfig` gives. */
function checked(config: unknown): RealtimeNuxtServerConfig {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    const got = Array.isArray(config) ? 'an array' : config === null ? 'null' : typeof config
    throw new TypeError(
      `[vue-realtime/nuxt] the server's options file (server/realtime.config.ts, or the file realtime.server.config names) must export default an object, got ${got}. Write \`export default defineRealtimeServerConfig({ ... })\`.`,
    )
  }
  return config as RealtimeNuxtServerConfig
}

/** `config`: the options file's default export; `protocolHeader`: read when the server is made. */
export function singleServer(config: unknown, protocolHeader: () => boolean): SingleServer {
  let server: RealtimeHooks | undefined
  return {
    use() {
      server ??= createRealtimeHooks({ ...checked(config), protocolHeader: protocolHeader() })
      return server
    },
    async close() {
      const current = server
      server = undefined
      try {
        await current?.close()
      } finally {
        await (config as RealtimeNuxtServerConfig | null | undefined)?.engine?.close()
      }
    },
  }
}
