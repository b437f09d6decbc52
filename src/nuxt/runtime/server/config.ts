/**
 * The options of the module's protocol server (`realtime.server`), written in the app's
 * `server/realtime.config.ts`:
 *
 * ```ts
 * // server/realtime.config.ts
 * export default defineRealtimeServerConfig({
 *   authenticate: (request, token) => (token ? verifyToken(token) : null),
 *   authorize: (user, topic) => !topic.startsWith('admin:'),
 * })
 * ```
 */
import type { RealtimeHooksOptions } from 'vue-realtime/server/crossws'

/**
 * What `server/realtime.config.ts` exports: `createRealtimeHooks`'s options, but the
 * subprotocol header, which the module sets for the crossws the app's Nitro bundles.
 */
export type RealtimeNuxtServerConfig<User = unknown> = Omit<RealtimeHooksOptions<User>, 'protocolHeader'>

/**
 * Types the options of the module's protocol server (auto-imported in server code). Returns
 * `config` as it is.
 */
export function defineRealtimeServerConfig<User = unknown>(config: RealtimeNuxtServerConfig<User>): RealtimeNuxtServerConfig<User> {
  return config
}
