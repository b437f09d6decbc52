/**
 * The connection of a tab that shares its socket with the other tabs. `shareAcrossTabs: true |
 * { ... }` loads this module on first use with a dynamic `import()` (bundlers make it a chunk of
 * its own); `tabSharing()` bundles it up front.
 */
import { Connection } from '../connection'
import { resolveEnvironment } from '../environment'
import { connectionKey, normalizeUrl } from '../url'
import type { BroadcastChannelConstructor, ConnectionOptions, LockManagerLike, TabSharingOptions } from '../types'
import { shareWay } from './detect'
import { TabConnection } from './tabConnection'
import { groupName } from './wire'
import { workerTransport } from './workerTransport'

type Globals = { navigator?: { locks?: LockManagerLike }; BroadcastChannel?: BroadcastChannelConstructor }

/** A connection shared with the other tabs where this tab can share (see `shareWay`), else a plain one. */
export function connectTabs<In, Out>(url: string | URL, options: ConnectionOptions<In, Out>, sharing: TabSharingOptions): Connection<In, Out> {
  const way = shareWay(sharing, options.environment)
  if (!way) return new Connection(url, options)
  const env = resolveEnvironment(options.environment)
  const group = groupName(connectionKey(normalizeUrl(url), options.protocols), sharing.name)
  if (way === 'worker') return new TabConnection(url, options, env, group, workerTransport(sharing.worker!, url, options))
  const g = globalThis as Globals
  const Channel = (env.BroadcastChannel ?? g.BroadcastChannel)!
  return new TabConnection(url, options, env, group, { locks: (env.locks ?? g.navigator?.locks)!, open: (name) => new Channel(name) })
}
