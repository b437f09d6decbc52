/**
 * The two connection managers the Nuxt plugin installs.
 *
 * - On the server, `InertManager`: its connections never open, whatever the caller asks and
 *   even where a global `WebSocket` exists (Node 22+), so a composable or store used outside the
 *   render (a plugin, a middleware) shows `idle` and no request ever holds a socket.
 * - On the client, `HydrationManager`: connections acquired while the app hydrates stay `idle`
 *   (sends queue) and open once the app is mounted, so the first client render matches the
 *   server's everywhere, the Pinia store included.
 */
import { ConnectionManager, type AcquireOptions, type Connection, type ConnectionOptions, type WebSocketConstructor } from 'vue-realtime'

/** A WebSocket constructor that refuses, naming why: the server render never opens sockets. */
const NoWebSocketOnTheServer = function NoWebSocketOnTheServer(): never {
  throw new Error('[vue-realtime/nuxt] no WebSocket is opened on the server: connections open in the browser after hydration.')
} as unknown as WebSocketConstructor

export class InertManager extends ConnectionManager {
  override acquire<In = unknown, Out = unknown>(url: string | URL, options: ConnectionOptions<In, Out> = {}): Connection<In, Out> {
    // No socket, no retry timer, no heartbeat, no tab sharing (a server has no tabs; where Node
    // has `navigator.locks`, a lock request would wait forever): an explicit open() fails at once
    // and leaves nothing behind.
    const inert = { WebSocket: NoWebSocketOnTheServer, reconnect: false, heartbeat: false, shareAcrossTabs: false } as const
    return super.acquire<In, Out>(url, { ...options, ...inert }, { open: false })
  }
}

export class HydrationManager extends ConnectionManager {
  #hydrating = true
  /** Connections whose opening waits for the mount. */
  readonly #waiting = new Set<Connection>()

  override acquire<In = unknown, Out = unknown>(url: string | URL, options?: ConnectionOptions<In, Out>, acquireOptions: AcquireOptions = {}): Connection<In, Out> {
    if (!this.#hydrating) return super.acquire<In, Out>(url, options, acquireOptions)
    const connection = super.acquire<In, Out>(url, options, { ...acquireOptions, open: false })
    if (acquireOptions.open !== false) this.#waiting.add(connection as Connection)
    return connection
  }

  /** The app is mounted: open what was acquired meanwhile and is still held. */
  hydrated(): void {
    if (!this.#hydrating) return
    this.#hydrating = false
    for (const connection of this.#waiting) {
      const held = this.connections.get(connection.key) === connection && this.refCount(connection) > 0
      if (held && (connection.status === 'idle' || connection.status === 'closed')) connection.open()
    }
    this.#waiting.clear()
  }
}
