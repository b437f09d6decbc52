/**
 * The demos' one in-page server (per page load) and its URL. Nothing here opens a network
 * connection: `demoServer.WebSocket` talks to the in-page server only.
 */
import { ConnectionManager, type ConnectionOptions } from 'vue-realtime/core'
import { FakeRealtimeServer } from './fakeServer'

/** Any URL works: the fake WebSocket never resolves it. `.invalid` makes that plain. */
export const DEMO_URL = 'wss://demo.invalid/realtime'

export const demoServer = new FakeRealtimeServer({ time: () => new Date().toISOString() })

/**
 * A manager of its own per simulated browser (so two demo clients are two sockets), on the
 * in-page server, with retries quick enough to watch.
 */
export function demoManager(options: ConnectionOptions = {}): ConnectionManager {
  return new ConnectionManager({
    WebSocket: demoServer.WebSocket,
    reconnect: { minDelay: 400, maxDelay: 3_000 },
    idleTimeout: 0,
    ...options,
  })
}
