/**
 * Whether a tab can share a socket with the others, and how: decided from the environment
 * alone, before any tab code loads, so that `shareAcrossTabs` in Node, outside a secure context
 * or in a browser without the APIs loads nothing and keeps one socket per tab at once.
 */
import type { RealtimeEnvironment, TabSharingOptions } from '../types'

type Globals = Partial<RealtimeEnvironment> & { navigator?: { locks?: RealtimeEnvironment['locks'] } }

/** `'locks'` or `'worker'`: the way `sharing` can take here; undefined: each tab keeps its own socket. */
export function shareWay({ via = 'auto', worker }: TabSharingOptions, env: Partial<RealtimeEnvironment> = {}): 'locks' | 'worker' | undefined {
  const g = globalThis as Globals
  // Browsers expose Web Locks in secure contexts only.
  if (via !== 'worker' && (env.locks ?? g.navigator?.locks) && (env.BroadcastChannel ?? g.BroadcastChannel)) return 'locks'
  // Chrome for Android had no SharedWorker before version 148.
  if (via !== 'locks' && worker && (env.SharedWorker ?? g.SharedWorker)) return 'worker'
  if (process.env.NODE_ENV !== 'production' && via === 'worker' && !worker) {
    console.warn(
      "[vue-realtime] shareAcrossTabs: { via: 'worker' } needs `worker`, a function that creates your SharedWorker " +
        "(e.g. `() => new SharedWorker(new URL('./realtime-worker.ts', import.meta.url), { type: 'module' })`): until then each tab keeps its own socket.",
    )
  }
  return undefined
}
