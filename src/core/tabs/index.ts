/**
 * The tab-sharing code, bundled up front: `tabSharing()` for `shareAcrossTabs`, and
 * `serveTabs()` for the SharedWorker of `via: 'worker'`. `shareAcrossTabs: true | { ... }` loads
 * the same code on first use instead (see `connect.ts`).
 */
import type { TabSharing, TabSharingOptions } from '../types'
import { connectTabs } from './connect'

/**
 * `shareAcrossTabs` with the tab-sharing code bundled up front, for apps that want no
 * asynchronous step when the first connection is made: `createRealtime({ shareAcrossTabs:
 * tabSharing() })` behaves as `shareAcrossTabs: true`, and `tabSharing({ via, worker, name })`
 * as `shareAcrossTabs: { via, worker, name }`, without the dynamic `import()`. Every composable
 * keeps its refs and semantics in every tab; `role` tells which tab holds the socket.
 */
export function tabSharing(options: TabSharingOptions = {}): TabSharing {
  return { connect: (url, connectionOptions) => connectTabs(url, connectionOptions, options) }
}

export type { TabSharingOptions, SharedWorkerLike, MessagePortLike } from '../types'
export { serveTabs, type SharedWorkerScopeLike } from './worker'
