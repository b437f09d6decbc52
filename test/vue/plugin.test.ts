// @vitest-environment happy-dom
import { mount } from '@vue/test-utils'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createApp, createSSRApp, defineComponent, h } from 'vue'
import { renderToString } from 'vue/server-renderer'
import { ConnectionManager, getDefaultManager } from '../../src/core'
import {
  createRealtime,
  useRealtime,
  useRealtimeUrl,
  useWebSocket,
  type RealtimeTimelineEvent,
  type UseWebSocketReturn,
} from '../../src/vue'
import { waitFor } from '../support/wait'
import { startServer, testOptions, webSocketSpy, type TestServer } from './helpers'

let server: TestServer

beforeEach(async () => {
  server = await startServer()
})

afterEach(async () => {
  await server.close()
  vi.restoreAllMocks()
})

function mountApp(options: Parameters<typeof createRealtime>[0]) {
  const sockets: UseWebSocketReturn[] = []
  let injected: ConnectionManager | undefined
  const Root = defineComponent({
    setup() {
      injected = useRealtime()
      sockets.push(useWebSocket(useRealtimeUrl()), useWebSocket(server.url('/other')))
      return () => h('p', sockets.map((s) => s.status.value).join(','))
    },
  })
  const realtime = createRealtime(options)
  const app = createApp(Root).use(realtime)
  app.mount(document.createElement('div'))
  return { app, realtime, sockets, injected: () => injected }
}

describe('createRealtime', () => {
  it('provides its manager and default URL, applies its defaults, and closes everything on app.unmount()', async () => {
    const { app, realtime, sockets, injected } = mountApp({ ...testOptions, url: server.url('/default'), idleTimeout: 60_000 })
    expect(injected()).toBe(realtime.manager)
    expect(realtime.url).toBe(server.url('/default'))
    await waitFor(() => sockets.every((s) => s.status.value === 'open'))
    expect(sockets[0]!.connection.value!.url).toBe(server.url('/default'))
    expect(server.open()).toBe(2)

    app.unmount()
    // idleTimeout is a minute: only closeAll() can close these sockets this soon.
    await waitFor(() => server.open() === 0, { message: 'all sockets closed on unmount' })
    expect(realtime.manager.connections.size).toBe(0)
  })

  it('feeds a devtools sink with status changes and frames in and out', async () => {
    const events: RealtimeTimelineEvent[] = []
    const { app, sockets } = mountApp({ ...testOptions, url: server.url('/dev'), devtools: { addTimelineEvent: (e) => events.push(e) } })
    await waitFor(() => sockets.every((s) => s.status.value === 'open'))
    sockets[0]!.send({ hello: 1 })
    server.broadcast('"hi"')
    await waitFor(() => events.some((e) => e.title === 'frame in') && events.some((e) => e.title === 'frame out'))
    expect(events.find((e) => e.title === 'frame out')).toMatchObject({ subtitle: server.url('/dev'), data: { data: '{"hello":1}' } })
    expect(events.filter((e) => e.title === 'status').map((e) => e.data.to)).toContain('open')
    app.unmount()
    // closeAll() runs before the timeline stops, so the closing shows.
    expect(events.filter((e) => e.title === 'status').map((e) => e.data.to)).toContain('closing')
  })

  it('without the plugin, components share the client-side default manager', async () => {
    const Consumer = defineComponent({
      setup() {
        const ws = useWebSocket(server.url('/default-manager'), testOptions)
        return () => h('p', ws.status.value)
      },
    })
    const a = mount(Consumer)
    const b = mount(Consumer)
    await waitFor(() => a.text() === 'open' && b.text() === 'open')
    expect(getDefaultManager().refCount(getDefaultManager().get(server.url('/default-manager'))!)).toBe(2)
    expect(server.accepted).toHaveLength(1)
    a.unmount()
    b.unmount()
    await waitFor(() => server.open() === 0)
  })

  it('constructs no socket during SSR even where a window exists', async () => {
    const Spy = webSocketSpy()
    const Root = defineComponent({
      setup() {
        const ws = useWebSocket(server.url('/ssr'), { WebSocket: Spy })
        return () => h('p', ws.status.value)
      },
    })
    expect(await renderToString(createSSRApp(Root).use(createRealtime({ WebSocket: Spy })))).toBe('<p>idle</p>')
    expect(Spy.calls).toHaveLength(0)
  })

  it('hydrates server HTML without a mismatch, then connects (sends in setup are queued)', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    vi.spyOn(console, 'error').mockImplementation(() => {})
    let ws!: UseWebSocketReturn
    const Root = defineComponent({
      setup() {
        ws = useWebSocket(server.url('/hydrate'))
        ws.send('from setup')
        return () => h('p', ws.status.value)
      },
    })
    const html = await renderToString(createSSRApp(Root).use(createRealtime(testOptions)))
    expect(html).toBe('<p>idle</p>')
    const container = document.createElement('div')
    container.innerHTML = html
    const app = createSSRApp(Root).use(createRealtime(testOptions))
    app.mount(container)
    expect(warn.mock.calls.flat().join(' ')).not.toMatch(/mismatch/i)
    await waitFor(() => container.textContent === 'open', { message: 'hydrated component shows open' })
    await waitFor(() => server.received.includes('from setup'))
    app.unmount()
  })

  it('uses a manager it is given, and closes its connections on app.unmount()', async () => {
    const manager = new ConnectionManager({ ...testOptions, idleTimeout: 60_000 })
    const { app, realtime, sockets, injected } = mountApp({ manager, url: server.url('/given'), devtools: false })
    expect(realtime.manager).toBe(manager)
    expect(injected()).toBe(manager)
    await waitFor(() => sockets.every((s) => s.status.value === 'open'))
    app.unmount()
    await waitFor(() => server.open() === 0)
    expect(manager.connections.size).toBe(0)
  })

  it('useRealtime() outside an app falls back to the default manager', () => {
    expect(useRealtime()).toBe(getDefaultManager())
  })
})
