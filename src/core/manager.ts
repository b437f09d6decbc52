import { Connection } from './connection'
import { withDefaults } from './defaults'
import { Emitter } from './emitter'
import { resolveEnvironment } from './environment'
import { redactSecrets } from './redact'
import { shareWay } from './tabs/detect'
import { LazyTabConnection } from './tabs/lazy'
import { connectionKey, normalizeUrl } from './url'
import type { ConnectionOptions, RealtimeEnvironment, TabSharing, TabSharingOptions, TimerHandle } from './types'

/** Keep a released socket this long by default, so a route change that remounts a consumer reuses it. */
const DEFAULT_IDLE_TIMEOUT = 1_000

interface Entry {
  connection: Connection<any, any> // eslint-disable-line @typescript-eslint/no-explicit-any -- heterogeneous map; typed at acquire()
  refs: number
  idleTimer: TimerHandle | null
}

export interface ManagerEvents {
  add: Connection
  remove: Connection
}

export interface AcquireOptions {
  /** Open the connection if it is idle or was closed. @default true */
  open?: boolean
}

const NESTED = ['heartbeat', 'reconnect', 'queue', 'environment'] as const

/** Defaults under options; the nested option objects are merged one level deep. */
export function mergeOptions<In, Out>(
  defaults: ConnectionOptions<unknown, unknown>,
  options: ConnectionOptions<In, Out> = {},
): ConnectionOptions<In, Out> {
  const merged = withDefaults(defaults, options) as Record<string, unknown>
  for (const key of NESTED) {
    const base = defaults[key]
    const value = options[key]
    if (typeof base === 'object' && base && typeof value === 'object' && value) merged[key] = { ...base, ...value }
  }
  return merged as ConnectionOptions<In, Out>
}

function differingOptions(first: ConnectionOptions<unknown, unknown>, later: ConnectionOptions<unknown, unknown>): string[] {
  const differing: string[] = []
  for (const [key, value] of Object.entries(later)) {
    if (value === undefined || key === 'environment') continue
    const current = (first as Record<string, unknown>)[key]
    if (current === value) continue
    if (typeof value === 'object' && typeof current === 'object' && JSON.stringify(value) === JSON.stringify(current)) continue
    differing.push(key)
  }
  return differing
}

/**
 * A plain connection, or one shared across tabs. `shareAcrossTabs: true | { ... }` loads the
 * tab code on first use, and only where this tab can share (decided here, synchronously);
 * `tabSharing()` brings it already loaded.
 */
function createConnection<In, Out>(url: string | URL, options: ConnectionOptions<In, Out>): Connection<In, Out> {
  const share = options.shareAcrossTabs
  if ((share as Partial<TabSharing> | undefined)?.connect) return (share as TabSharing).connect(url, options)
  const sharing = share === true ? {} : (share as TabSharingOptions | false | undefined) || undefined
  return sharing && shareWay(sharing, options.environment) ? new LazyTabConnection(url, options, sharing) : new Connection(url, options)
}

/**
 * Shares connections: one per URL + subprotocols, reference-counted. N consumers of a URL
 * share one socket; it closes `idleTimeout` after the last one releases it. One manager per
 * app (the plugin creates it); `closeAll()` when the app unmounts.
 */
export class ConnectionManager {
  readonly #entries = new Map<string, Entry>()
  readonly #emitter = new Emitter<ManagerEvents>((error) => console.error('vue-realtime: a manager listener threw', error))
  readonly #env: RealtimeEnvironment

  /** @param defaults Connection options applied under every `acquire`'s own options. */
  constructor(readonly defaults: ConnectionOptions<unknown, unknown> = {}) {
    this.#env = resolveEnvironment(defaults.environment)
  }

  /** Live connections by key (URL, plus subprotocols when given). */
  get connections(): ReadonlyMap<string, Connection> {
    return new Map([...this.#entries].map(([key, entry]) => [key, entry.connection]))
  }

  /**
   * Returns the shared connection for `url` (+ `protocols`), creating it on first use, and
   * counts one more consumer. Options of the first acquirer win; a later acquirer with
   * different options gets a warning in development. Opens the connection if it is idle
   * or was closed (unless `{ open: false }`).
   * @throws TypeError for an invalid URL (the message names the URL).
   */
  acquire<In = unknown, Out = unknown>(
    url: string | URL,
    options: ConnectionOptions<In, Out> = {},
    { open = true }: AcquireOptions = {},
  ): Connection<In, Out> {
    const merged = mergeOptions(this.defaults, options)
    const key = connectionKey(normalizeUrl(url), merged.protocols)
    let entry = this.#entries.get(key)
    if (entry) {
      if (process.env.NODE_ENV !== 'production') {
        const differing = differingOptions(entry.connection.options, merged as ConnectionOptions<unknown, unknown>)
        if (differing.length > 0) {
          console.warn(
            `[vue-realtime] ${redactSecrets(key)} is already open with other ${differing.join(', ')} options; the first acquirer's options apply. ` +
              'Give every consumer of one URL the same connection options (or set them once in createRealtime()).',
          )
        }
      }
      this.#env.clearTimeout(entry.idleTimer)
      entry.idleTimer = null
      entry.refs++
    } else {
      entry = { connection: createConnection(url, merged), refs: 1, idleTimer: null }
      this.#entries.set(key, entry)
      this.#emitter.emit('add', entry.connection)
    }
    const connection = entry.connection as Connection<In, Out>
    const { status } = connection
    if (open && (status === 'idle' || status === 'closed' || status === 'closing')) connection.open()
    return connection
  }

  /**
   * One consumer is done. The last release closes the socket after `idleTimeout` (at once if
   * the connection is closed, closing or failed: there is no socket to keep). Messages still
   * queued then are counted as dropped and reported.
   */
  release(connection: Connection<any, any>): void { // eslint-disable-line @typescript-eslint/no-explicit-any
    const entry = this.#entries.get(connection.key)
    if (entry?.connection !== connection || entry.refs === 0 || --entry.refs > 0) return
    const idle = connection.options.idleTimeout ?? DEFAULT_IDLE_TIMEOUT
    const { status } = connection
    // The idle timer keeps a live socket for a consumer that comes right back; a connection the
    // user closed (or that failed) has none to keep.
    if (idle <= 0 || status === 'closed' || status === 'closing' || status === 'failed') return this.#remove(connection.key)
    entry.idleTimer = this.#env.setTimeout(() => {
      entry.idleTimer = null
      this.#remove(connection.key)
    }, idle)
  }

  /** The connection for `url` (+ `protocols`) if one is live. */
  get(url: string | URL, protocols?: string | string[]): Connection | undefined {
    return this.#entries.get(connectionKey(normalizeUrl(url), protocols ?? this.defaults.protocols))?.connection
  }

  /** How many consumers hold the connection. */
  refCount(connection: Connection<any, any>): number { // eslint-disable-line @typescript-eslint/no-explicit-any
    return this.#entries.get(connection.key)?.refs ?? 0
  }

  on<K extends keyof ManagerEvents>(event: K, listener: (connection: ManagerEvents[K]) => void): () => void {
    return this.#emitter.on(event, listener)
  }

  /**
   * Closes every connection (the plugin calls this on `app.unmount()`). Connections nobody
   * holds are forgotten; one a consumer still holds stays known, closed, so that consumer's
   * `open()` reuses it (one socket per URL) and its release forgets it. A connection shared
   * across tabs is closed for this tab only: the other tabs keep their socket.
   */
  closeAll(code = 1000, reason = ''): void {
    for (const [key, entry] of [...this.#entries]) {
      if (entry.refs > 0) entry.connection.closeForApp(code, reason)
      else this.#remove(key, code, reason)
    }
  }

  /** `closeAll()` and drop every listener. */
  dispose(): void {
    this.closeAll()
    this.#emitter.clear()
  }

  #remove(key: string, code = 1000, reason = ''): void {
    const entry = this.#entries.get(key)
    if (!entry) return
    this.#env.clearTimeout(entry.idleTimer)
    this.#entries.delete(key)
    const { connection } = entry
    if (process.env.NODE_ENV !== 'production') {
      const { queued } = connection.state
      if (queued > 0) {
        console.warn(
          `[vue-realtime] ${redactSecrets(key)} was closed after its last consumer left, with ${queued} message(s) still queued: they were dropped (counted in \`dropped\`). ` +
            'Keep a consumer until `queued` is 0, raise `idleTimeout`, or send them with a `ttl`.',
        )
      }
    }
    // Disposed, not just closed: nobody can reopen a connection the manager no longer counts.
    connection.dispose(code, reason)
    this.#emitter.emit('remove', connection)
  }
}

let defaultManager: ConnectionManager | undefined

/**
 * The manager used by consumers outside an app that installed `createRealtime` (created on
 * first use). Vue's layer never calls it while rendering on the server.
 */
export function getDefaultManager(): ConnectionManager {
  return (defaultManager ??= new ConnectionManager())
}
