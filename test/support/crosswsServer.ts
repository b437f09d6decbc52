/**
 * The protocol server as crossws hooks (`createRealtimeHooks`), mounted on crossws's Node adapter
 * on a loopback HTTP server, with the surface of `createRealtimeServer` that tests use: `port`,
 * `url`, and a `close()` that also closes the HTTP server (so the port can be bound again).
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import nodeAdapter03 from 'crossws/adapters/node'
import nodeAdapter04 from 'crossws04/adapters/node'
import { createRealtimeHooks, type RealtimeHooksOptions, type RealtimeServerCore } from '../../src/server'

/** crossws 0.3 (Nitro 2: Nuxt 3 and 4) or 0.4. */
export type CrosswsVersion = '0.3' | '0.4'

export interface MountedHooks<User = unknown> extends RealtimeServerCore<User> {
  readonly port: number
  readonly url: string
}

/** Mounts the hooks on 127.0.0.1 (`port` 0: a free one) and resolves once the port is bound and the engine ready. */
export async function mountHooks<User = unknown>(
  options: RealtimeHooksOptions<User> = {},
  { port = 0, version = '0.3' }: { port?: number; version?: CrosswsVersion } = {},
): Promise<MountedHooks<User>> {
  // crossws 0.3's Node adapter writes the subprotocol header itself; 0.4 leaves it to the hooks.
  const realtime = createRealtimeHooks<User>({ protocolHeader: version !== '0.3', ...options })
  const adapter = version === '0.3' ? nodeAdapter03({ hooks: realtime.hooks }) : nodeAdapter04({ hooks: realtime.hooks })
  const http: Server = createServer((_req, res) => res.writeHead(426).end())
  http.on('upgrade', (req, socket, head) => void adapter.handleUpgrade(req, socket, head))
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject)
    http.listen(port, '127.0.0.1', () => resolve())
  })
  const bound = (http.address() as AddressInfo).port
  await realtime.ready
  return {
    ready: realtime.ready,
    clients: realtime.clients,
    engine: realtime.engine,
    topics: () => realtime.topics(),
    presence: (topic) => realtime.presence(topic),
    publish: (topic, data, publishOptions) => realtime.publish(topic, data, publishOptions),
    on: (event, listener) => realtime.on(event, listener),
    port: bound,
    url: `ws://127.0.0.1:${bound}/_realtime`,
    async close(closeOptions) {
      try {
        await realtime.close(closeOptions)
      } finally {
        await new Promise<void>((resolve) => {
          http.close(() => resolve())
          http.closeAllConnections()
        })
      }
    },
  }
}
