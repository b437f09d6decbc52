// A loopback server of the adapter's kind with the fault proxy in front of it.
import { createFaultProxy } from './proxy.mjs'
import { startServer } from './servers.mjs'

export async function serverBehindProxy(adapter, serverOptions = {}) {
  const server = await startServer(adapter.serverKind, serverOptions)
  const proxy = await createFaultProxy({ target: { port: server.port } })
  return {
    server,
    proxy,
    url: server.url(proxy.port),
    async close() {
      await proxy.close()
      await server.close()
    },
  }
}
