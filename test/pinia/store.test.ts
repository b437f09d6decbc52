// @vitest-environment happy-dom
import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createApp, effectScope } from 'vue'
import { useRealtimeStore } from '../../src/pinia'
import { createRealtime, useWebSocket, type RealtimePlugin } from '../../src/vue'
import { waitFor } from '../support/wait'
import { startServer, testOptions, type TestServer } from '../vue/helpers'

let server: TestServer
let realtime: RealtimePlugin
let app: ReturnType<typeof createApp>

beforeEach(async () => {
  server = await startServer()
  realtime = createRealtime({ ...testOptions, devtools: false })
  const pinia = createPinia()
  app = createApp({ render: () => null }).use(pinia).use(realtime)
  app.mount(document.createElement('div'))
  setActivePinia(pinia)
})

afterEach(async () => {
  app.unmount()
  await server.close()
})

describe('useRealtimeStore', () => {
  it('uses the app manager and reflects a real connection: open, openCount, send, disconnect', async () => {
    const store = useRealtimeStore()
    const url = server.url('/store')
    const connection = store.connect(url)
    expect(connection).toBe(realtime.manager.get(url))
    expect(store.connections[url]).toMatchObject({ url, status: 'connecting', readyState: 0 })

    await waitFor(() => store.connections[url]?.status === 'open', { message: 'store shows open' })
    expect(store.openCount).toBe(1)
    expect(store.anyReconnecting).toBe(false)
    expect(store.connections[url]!.readyState).toBe(1)

    expect(store.send(url, { hi: 1 })).toBe('sent')
    await waitFor(() => server.received.length === 1)
    expect(server.received).toEqual(['{"hi":1}'])
    await waitFor(() => store.connections[url]!.sent === 1)

    server.broadcast('"hello"')
    await waitFor(() => store.connections[url]!.received === 1)

    // Connecting twice holds one reference.
    store.connect(url)
    expect(realtime.manager.refCount(connection!)).toBe(1)

    store.disconnect(url)
    await waitFor(() => store.connections[url] === undefined, { message: 'entry removed after idleTimeout' })
    expect(store.openCount).toBe(0)
    await waitFor(() => server.open() === 0)
  })

  it('shows connections acquired by other consumers and reports reconnecting', async () => {
    const store = useRealtimeStore()
    const url = server.url('/component')
    // A consumer in the app's context (as a component's setup would be) acquires through the same manager.
    const scope = effectScope()
    app.runWithContext(() => scope.run(() => useWebSocket(url, { reconnect: { minDelay: 60_000 } })))
    await waitFor(() => store.connections[url]?.status === 'open')
    expect(store.openCount).toBe(1)

    for (const socket of server.accepted) socket.terminate()
    await waitFor(() => store.anyReconnecting, { message: 'anyReconnecting after the server dropped the link' })
    expect(store.connections[url]!.status).toBe('reconnecting')
    expect(store.connections[url]!.nextRetryAt).toEqual(expect.any(Number))
    expect(store.openCount).toBe(0)
    scope.stop()
  })

  it('send to an unknown URL is dropped; disconnect of an unknown URL is a no-op', () => {
    const store = useRealtimeStore()
    const warn = console.warn
    console.warn = () => {}
    try {
      expect(store.send(server.url('/nowhere'), 'x')).toBe('dropped')
      expect(() => store.disconnect(server.url('/nowhere'))).not.toThrow()
      expect(() => store.disconnect('not a url')).not.toThrow()
    } finally {
      console.warn = warn
    }
  })
})
