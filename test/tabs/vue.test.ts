// @vitest-environment happy-dom
/**
 * Two simulated tabs (two apps, one in-memory profile) sharing one real socket to a `ws`
 * server on loopback: `role` on useWebSocket and in the Pinia store, messages both ways, and
 * the hand-over when the leading app unmounts.
 */
import { createPinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createApp, defineComponent, h, type App } from 'vue'
import { createManualEnvironment, MemoryProfile } from '../../src/core'
import { useRealtimeStore } from '../../src/pinia'
import { createRealtime, tabSharing, useWebSocket, type UseWebSocketReturn } from '../../src'
import { waitFor } from '../support/wait'
import { startServer, testOptions, type TestServer } from '../vue/helpers'

let server: TestServer
let profile: MemoryProfile
const apps: App[] = []

beforeEach(async () => {
  server = await startServer()
  profile = new MemoryProfile()
})
afterEach(async () => {
  for (const app of apps.splice(0)) app.unmount()
  await server.close()
})

function openTab() {
  let ws!: UseWebSocketReturn<unknown, unknown>
  const app = createApp(
    defineComponent({
      setup() {
        ws = useWebSocket(server.url('/shared'))
        return () => h('span')
      },
    }),
  )
  app.use(createPinia())
  app.use(createRealtime({ ...testOptions, devtools: false, shareAcrossTabs: tabSharing(), environment: createManualEnvironment({}, profile) }))
  app.mount(document.createElement('div'))
  apps.push(app)
  const store = app.runWithContext(() => useRealtimeStore())
  return { app, ws, store }
}

describe('useWebSocket and the store across tabs', () => {
  it('one socket; role on each side; every message both ways; hand-over when the leading app unmounts', async () => {
    const a = openTab()
    await waitFor(() => a.ws.status.value === 'open', { message: 'a open' })
    const b = openTab()
    await waitFor(() => b.ws.status.value === 'open', { message: 'b open' })
    expect(server.accepted).toHaveLength(1)
    expect(a.ws.role.value).toBe('leader')
    expect(b.ws.role.value).toBe('follower')
    const key = server.url('/shared')
    expect(a.store.connections[key]?.role).toBe('leader')
    expect(b.store.connections[key]?.role).toBe('follower')

    server.broadcast('{"n":1}')
    await waitFor(() => b.ws.data.value !== undefined)
    expect(a.ws.messages.value).toEqual([{ n: 1 }])
    expect(b.ws.messages.value).toEqual([{ n: 1 }])

    expect(b.ws.send({ from: 'b' })).toBe('queued')
    await waitFor(() => server.received.length === 1)
    expect(server.received).toEqual(['{"from":"b"}'])

    a.app.unmount()
    apps.splice(apps.indexOf(a.app), 1)
    await waitFor(() => b.ws.role.value === 'leader' && b.ws.status.value === 'open', { message: 'b leads an open socket' })
    expect(server.accepted).toHaveLength(2)
    await waitFor(() => server.open() === 1, { message: 'the first socket closed' })
    expect(b.store.connections[key]?.role).toBe('leader')
  })
})
