/**
 * `tabSharing()`: one socket per URL for all the tabs of a browser profile. It is passed as a
 * value (`shareAcrossTabs: tabSharing()`) rather than switched on with `true`, so that an app
 * that does not share imports none of this folder.
 */
import { Connection } from '../connection'
import { resolveEnvironment } from '../environment'
import { connectionKey, normalizeUrl } from '../url'
import type { RealtimeEnvironment, TabSharing } from '../types'
import { TabConnection } from './tabConnection'
import { groupName } from './wire'
import { workerTransport, type SharedWorkerLike } from './workerTransport'

export interface TabSharingOptions {
  /**
   * How tabs share:
   * - `'locks'`: the tabs elect a leader with Web Locks and talk over a BroadcastChannel; the
   *   leader holds the socket (Safari 15.4+, Firefox 96+, Chrome 69+, Chrome for Android);
   * - `'worker'`: a SharedWorker you provide holds the socket (see `worker`);
   * - `'auto'`: `'locks'` where the browser has Web Locks and BroadcastChannel, else `'worker'`
   *   if a `worker` is given.
   * Without what the chosen way needs (or outside a secure context, where browsers hide Web
   * Locks), each tab keeps its own socket, exactly as without sharing.
   * @default 'auto'
   */
  via?: 'auto' | 'locks' | 'worker'
  /**
   * Creates the SharedWorker that holds the sockets, for `via: 'worker'`; its script calls
   * `serveTabs()` from `vue-realtime/core`. Called once per connection per tab, e.g.
   * `() => new SharedWorker(new URL('./realtime-worker.ts', import.meta.url), { type: 'module' })`.
   * @default undefined
   */
  worker?: () => SharedWorkerLike
  /**
   * Tabs share a socket only with tabs that use the same `name` (and the same URL and
   * subprotocols): give apps of one origin that must not share (or builds that must not mix)
   * different names.
   * @default undefined
   */
  name?: string
}

/**
 * Shares each connection of an app across the tabs of the browser profile:
 * `createRealtime({ shareAcrossTabs: tabSharing() })`, or per connection with the
 * `shareAcrossTabs` connection option. Every composable keeps its refs and semantics in every
 * tab; `role` tells which tab holds the socket.
 */
export function tabSharing(options: TabSharingOptions = {}): TabSharing {
  const via = options.via ?? 'auto'
  return {
    connect(url, connectionOptions) {
      const env = resolveEnvironment(connectionOptions.environment)
      const group = groupName(connectionKey(normalizeUrl(url), connectionOptions.protocols), options.name)
      // Web Locks exist only in secure contexts: outside one, each tab keeps its own socket.
      const g = globalThis as Partial<RealtimeEnvironment> & { navigator?: { locks?: RealtimeEnvironment['locks'] } }
      const locks = env.locks ?? g.navigator?.locks
      const Channel = env.BroadcastChannel ?? g.BroadcastChannel
      if (via !== 'worker' && locks && Channel) {
        return new TabConnection(url, connectionOptions, env, group, { locks, open: (name) => new Channel(name) })
      }
      // Chrome for Android had no SharedWorker before version 148: then each tab keeps its socket.
      if (via !== 'locks' && options.worker && (env.SharedWorker ?? g.SharedWorker)) {
        return new TabConnection(url, connectionOptions, env, group, workerTransport(options.worker, url, connectionOptions))
      }
      return new Connection(url, connectionOptions)
    },
  }
}

export type { SharedWorkerLike, MessagePortLike } from './workerTransport'
export { serveTabs, type SharedWorkerScopeLike } from './worker'
