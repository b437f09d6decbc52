/**
 * `useRealtimeStore`: every connection of the app's manager as Pinia state, for devtools,
 * status bars and components that do not own a connection themselves.
 */
import { defineStore } from 'pinia'
import { computed, onScopeDispose, ref } from 'vue'
import type { Connection, ConnectionManager } from '../core'
import { redactSecrets } from '../core/redact'
import { connectionKey, displayKey, normalizeUrl, redactProtocols } from '../core/url'
import type {
  ConnectionOptions,
  ConnectionState,
  SendOptions,
  SendResult,
  WebSocketData,
} from '../core/types'
import { resolveManager } from '../vue/context'
import { warn } from '../vue/dev'

/**
 * One connection as the store shows it: its state plus where it points. Credentials never
 * appear: credential-like query parameters and the token subprotocol show as `***`.
 */
export interface RealtimeConnectionInfo extends ConnectionState {
  /** The normalised URL, credentials masked (`wss://example.com/ws?token=***`). */
  url: string
  /** The subprotocols, the token's masked. */
  protocols: string[]
  /**
   * The key of `connections`: `url` plus the subprotocols when there are any (and ` (2)`,
   * ` (3)`... when two connections differ only in their credentials). To look a connection up
   * by the URL your app uses, call `connection(url)`.
   */
  key: string
}

function describe(connection: Connection, state: Readonly<ConnectionState>, key: string): RealtimeConnectionInfo {
  // The state's error is already masked by the connection; the URL and subprotocols are masked here.
  const protocols = redactProtocols(connection.protocols, connection.options.tokenProtocol)
  return { ...state, url: redactSecrets(connection.url), protocols, key }
}

/**
 * The store of the app's connections (id `realtime`). Its manager is the app's (`createRealtime`)
 * or the client-side default; on the server it stays empty and its actions do nothing.
 */
export const useRealtimeStore = defineStore('realtime', () => {
  const manager: ConnectionManager | undefined = resolveManager()

  /** Every connection of the manager by display key: URL plus subprotocols, credentials masked. */
  const connections = ref<Record<string, RealtimeConnectionInfo>>({})
  /** How many connections are open. */
  const openCount = computed(() => Object.values(connections.value).filter((c) => c.status === 'open').length)
  /** Is any connection waiting to retry? */
  const anyReconnecting = computed(() => Object.values(connections.value).some((c) => c.status === 'reconnecting'))

  /** The connections this store acquired with `connect()` (one reference each), by manager key. */
  const held = new Map<string, Connection>()
  /** The manager key for a URL (and subprotocols); undefined for an invalid URL. It holds credentials: never show it. */
  const keyOf = (url: string | URL, protocols?: string | string[]): string | undefined => {
    try {
      return connectionKey(normalizeUrl(url), protocols ?? manager?.defaults.protocols)
    } catch {
      return undefined
    }
  }
  /** Every tracked connection, with its state remover and its key in `connections`. */
  const tracked = new Map<Connection, { remove: () => void; key: string }>()

  /** A key of `connections` for the connection: its display key, made unique among the live ones. */
  const freeKey = (connection: Connection): string => {
    const base = displayKey(connection.url, connection.protocols, connection.options.tokenProtocol)
    const taken = new Set([...tracked.values()].map((entry) => entry.key))
    let key = base
    for (let n = 2; taken.has(key); n++) key = `${base} (${n})`
    return key
  }

  const track = (connection: Connection): void => {
    if (tracked.has(connection)) return
    const key = freeKey(connection)
    const remove = connection.on('state', (state) => {
      if (tracked.has(connection)) connections.value[key] = describe(connection, state, key)
    })
    tracked.set(connection, { remove, key })
    connections.value[key] = describe(connection, connection.state, key)
  }

  const untrack = (connection: Connection): void => {
    const entry = tracked.get(connection)
    if (!entry) return
    entry.remove()
    tracked.delete(connection)
    if (held.get(connection.key) === connection) held.delete(connection.key)
    delete connections.value[entry.key]
  }

  /**
   * The connection to `url` as your app writes it (`'wss://example.com/ws'`, a path, an `http(s)`
   * URL: it is normalised the way the manager does), or undefined. With `protocols`, the one with
   * exactly these subprotocols (a `token` option's subprotocol is not one of them); without, the
   * one without subprotocols, else the first acquired (a channel's connection has `vue-realtime.v1`).
   */
  const connection = computed(() => (url: string | URL, protocols?: string | string[]): RealtimeConnectionInfo | undefined => {
    let normalized: string
    try {
      normalized = normalizeUrl(url)
    } catch {
      return undefined
    }
    // Through `connections`, so a component that calls this re-renders when one is added.
    const candidates = Object.values(connections.value).flatMap((info) => {
      const found = [...tracked].find(([c, entry]) => entry.key === info.key && c.url === normalized)
      return found ? [{ info, key: found[0].key }] : []
    })
    if (protocols !== undefined) return candidates.find((c) => c.key === connectionKey(normalized, protocols))?.info
    return (candidates.find((c) => c.key === normalized) ?? candidates[0])?.info
  })

  if (manager) {
    for (const connection of manager.connections.values()) track(connection)
    const offAdd = manager.on('add', track)
    const offRemove = manager.on('remove', untrack)
    onScopeDispose(() => {
      offAdd()
      offRemove()
      for (const { remove } of tracked.values()) remove()
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

  return { connections, connection, openCount, anyReconnecting, connect, disconnect, send }
})

/** The store instance type. */
export type RealtimeStore = ReturnType<typeof useRealtimeStore>
