/**
 * `useRealtimeStore`: every connection of the app's manager as Pinia state, for devtools,
 * status bars and components that do not own a connection themselves.
 */
import { defineStore } from 'pinia'
import { computed, onScopeDispose, ref } from 'vue'
import type { Connection, ConnectionManager } from '../core'
import { connectionKey, normalizeUrl } from '../core/url'
import type {
  ConnectionOptions,
  ConnectionState,
  SendOptions,
  SendResult,
  WebSocketData,
} from '../core/types'
import { resolveManager } from '../vue/context'
import { warn } from '../vue/dev'

/** One connection as the store shows it: its state plus where it points. */
export interface RealtimeConnectionInfo extends ConnectionState {
  /** The normalised URL. */
  url: string
  /** URL plus subprotocols: the key of `connections`. Equal to `url` without subprotocols. */
  key: string
}

function describe(connection: Connection, state: Readonly<ConnectionState>): RealtimeConnectionInfo {
  return { ...state, url: connection.url, key: connection.key }
}

/**
 * The store of the app's connections (id `realtime`). Its manager is the app's (`createRealtime`)
 * or the client-side default; on the server it stays empty and its actions do nothing.
 */
export const useRealtimeStore = defineStore('realtime', () => {
  const manager: ConnectionManager | undefined = resolveManager()

  /** Every connection of the manager, keyed by URL (plus subprotocols, when any). */
  const connections = ref<Record<string, RealtimeConnectionInfo>>({})
  /** How many connections are open. */
  const openCount = computed(() => Object.values(connections.value).filter((c) => c.status === 'open').length)
  /** Is any connection waiting to retry? */
  const anyReconnecting = computed(() => Object.values(connections.value).some((c) => c.status === 'reconnecting'))

  /** The connections this store acquired with `connect()` (one reference each). */
  const held = new Map<string, Connection>()
  /** The key of `connections` for a URL (and subprotocols); undefined for an invalid URL. */
  const keyOf = (url: string | URL, protocols?: string | string[]): string | undefined => {
    try {
      return connectionKey(normalizeUrl(url), protocols ?? manager?.defaults.protocols)
    } catch {
      return undefined
    }
  }
  const tracked = new Map<Connection, () => void>()

  const track = (connection: Connection): void => {
    if (tracked.has(connection)) return
    const key = connection.key
    const remove = connection.on('state', (state) => {
      if (tracked.has(connection)) connections.value[key] = describe(connection, state)
    })
    tracked.set(connection, remove)
    connections.value[key] = describe(connection, connection.state)
  }

  const untrack = (connection: Connection): void => {
    tracked.get(connection)?.()
    tracked.delete(connection)
    if (held.get(connection.key) === connection) held.delete(connection.key)
    if (connections.value[connection.key]?.url === connection.url) delete connections.value[connection.key]
  }

  if (manager) {
    for (const connection of manager.connections.values()) track(connection)
    const offAdd = manager.on('add', track)
    const offRemove = manager.on('remove', untrack)
    onScopeDispose(() => {
      offAdd()
      offRemove()
      for (const remove of tracked.values()) remove()
      tracked.clear()
      for (const connection of held.values()) manager.release(connection)
      held.clear()
    })
  }

  /**
   * Acquires the URL's connection (opening it if needed) and holds it until `disconnect(url)`.
   * Connecting twice holds it once. Returns the connection, or undefined on the server.
   * Throws a TypeError for an invalid URL.
   */
  function connect<In = unknown, Out = unknown>(
    url: string | URL,
    options?: ConnectionOptions<In, Out>,
  ): Connection<In, Out> | undefined {
    if (!manager) return undefined
    const connection = manager.acquire<In, Out>(url, options)
    if (held.has(connection.key)) manager.release(connection as Connection)
    else held.set(connection.key, connection as Connection)
    track(connection as Connection)
    return connection
  }

  /** Releases the reference `connect(url)` took; the socket closes after the manager's `idleTimeout` if no one else uses it. */
  function disconnect(url: string | URL, protocols?: string | string[]): void {
    const key = keyOf(url, protocols)
    const connection = key === undefined ? undefined : held.get(key)
    if (!connection || !manager) return
    held.delete(key!)
    manager.release(connection)
  }

  /** Sends on the URL's connection (see `Connection.send`); `'dropped'` if the app has no such connection. */
  function send(url: string | URL, data: unknown, options?: SendOptions & { protocols?: string | string[] }): SendResult {
    const { protocols, ...sendOptions } = options ?? {}
    const key = keyOf(url, protocols)
    const connection = key === undefined ? undefined : (held.get(key) ?? manager?.connections.get(key))
    if (!connection) {
      if (manager) warn(`useRealtimeStore().send(): no connection to ${String(url)}; call connect(url) first. The message was dropped.`)
      return 'dropped'
    }
    return connection.send(data as WebSocketData, sendOptions)
  }

  return { connections, openCount, anyReconnecting, connect, disconnect, send }
})

/** The store instance type. */
export type RealtimeStore = ReturnType<typeof useRealtimeStore>
