/**
 * `tabSharing()`: one socket per URL for all the tabs of a browser profile. It is passed as a
 * value (`shareAcrossTabs: tabSharing()`) rather than switched on with `true`, so that an app
 * that does not share imports none of this folder.
 */
import { Connection } from '../connection'
import { resolveEnvironment } from '../environment'
import { connectionKey, normalizeUrl } from '../url'
import type { TabSharing } from '../types'
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
      const { locks, BroadcastChannel: Channel } = env
      if (via !== 'worker' && locks && Channel) {
        return new TabConnection(url, connectionOptions, env, group, { locks, open: (name) => new Channel(name) })
      }
      const worker = via !== 'locks' && options.worker && workerTransport(options.worker, url, connectionOptions)
      if (worker) return new TabConnection(url, connectionOptions, env, group, worker)
      return new Connection(url, connectionOptions)
    },
  }
}

export type { SharedWorkerLike } from './workerTransport'
