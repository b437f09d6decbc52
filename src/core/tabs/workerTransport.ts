/**
 * The tab side of `via: 'worker'`: each connection of a tab talks to the app's SharedWorker over
 * a port of its own. The worker (`serveTabs()`) always leads, so there is no election; the
 * messages are those of the BroadcastChannel transport, after one `join` that tells the worker
 * which socket the port is for.
 */
import { resolveEnvironment } from '../environment'
import { normalizeUrl } from '../url'
import type { BroadcastChannelLike, ConnectionOptions, LockManagerLike, SharedWorkerLike } from '../types'
import type { TabTransport } from './tabConnection'
import { tabId, type CommandRecord } from './wire'

/** What a port says first: the group, and what the worker needs to open its socket. */
export interface JoinMessage {
  t: 'join'
  group: string
  url: string
  /** Names the port's lock, which the tab holds before it joins and the worker waits for to learn that the tab is gone. */
  port: string
  /** The connection's options that survive cloning (functions stay in the tab). */
  options: ConnectionOptions
  token: string | null
  /** The latest user command the tab knows of: a new group's socket starts with it (closed after a `close()`). */
  command?: CommandRecord | null
}

/** The options that survive structured cloning: no functions (nested option objects one level deep). */
function cloneable<In, Out>(options: ConnectionOptions<In, Out>): ConnectionOptions {
  const plain = <T>(value: T): T =>
    typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (Object.fromEntries(Object.entries(value).filter(([, v]) => typeof v !== 'function')) as T)
      : value
  const { protocols, binaryType, connectTimeout, heartbeat, reconnect, queue, idleTimeout } = options
  return { protocols, binaryType, connectTimeout, idleTimeout, heartbeat: plain(heartbeat), reconnect: plain(reconnect), queue: plain(queue) }
}

export function workerTransport<In, Out>(create: () => SharedWorkerLike, url: string | URL, options: ConnectionOptions<In, Out>): TabTransport {
  const locks = resolveEnvironment(options.environment).locks ?? (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator?.locks
  return {
    open(group, command) {
      const port = create().port
      const id = tabId()
      let token: string | null = null
      try {
        token = (typeof options.token === 'function' ? options.token() : options.token) ?? null
      } catch {
        // The worker connects without it and reports the refusal; the tab's next reconnect() retries.
      }
      const join: JoinMessage = { t: 'join', group, url: normalizeUrl(url), port: id, options: cloneable(options), token, command: command ?? null }
      // The port joins once the tab holds its lock, and holds it while the port lives: the worker,
      // which waits for it from the join on, learns that a crashed tab is gone when it gets it. A
      // tab that crashes before that never joined. What the tab posts meanwhile waits.
      let early: unknown[] | null = []
      const joinNow = () => {
        if (!early) return
        port.postMessage(join)
        for (const message of early) port.postMessage(message)
        early = null
      }
      let release: (() => void) | undefined
      let closed = false
      const abort = new AbortController()
      if (!locks) joinNow()
      else {
        locks
          .request(`${group} port ${id}`, { signal: abort.signal }, () =>
            new Promise<void>((resolve) => {
              // Granted after the port closed (the abort came too late): let it go at once.
              if (closed) return resolve()
              release = resolve
              joinNow()
            }),
          )
          .catch(() => {})
      }
      const channel: BroadcastChannelLike = {
        postMessage: (message) => (early ? early.push(message) : port.postMessage(message)),
        get onmessage() {
          return port.onmessage
        },
        set onmessage(listener) {
          port.onmessage = listener
        },
        close() {
          if (!early) port.postMessage({ t: 'part' })
          early = null
          closed = true
          port.close()
          abort.abort()
          release?.()
        },
      }
      return channel
    },
  }
}
