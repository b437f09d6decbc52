// @vitest-environment happy-dom
/**
 * Store keys and credentials (issue 8 point 10): `connections` is keyed by what may be shown,
 * `connection(url)` finds a connection by the URL as the app wrote it, and no token (a
 * `?token=` value, the token subprotocol) reaches a key, the store's state or the devtools,
 * while the manager still keeps two users' connections apart.
 */
import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createApp, effectScope, watchEffect } from 'vue'
import { useRealtimeStore } from '../../src/pinia'
import { createRealtime, type RealtimePlugin, type RealtimeTimelineEvent } from '../../src/vue'
import { waitFor } from '../support/wait'
import { startServer, testOptions, type TestServer } from '../vue/helpers'

const SECRET_A = 'secretAAA'
const SECRET_B = 'secretBBB'

let server: TestServer
let realtime: RealtimePlugin
let app: ReturnType<typeof createApp>
let events: RealtimeTimelineEvent[]

beforeEach(async () => {
  server = await startServer()
  events = []
  realtime = createRealtime({ ...testOptions, devtools: { addTimelineEvent: (event) => events.push(event) } })
  const pinia = createPinia()
  app = createApp({ render: () => null }).use(pinia).use(realtime)
  app.mount(document.createElement('div'))
  setActivePinia(pinia)
})

afterEach(async () => {
  app.unmount()
  await server.close()
})

/** Everything a user can see of the store and the timeline, as text. */
const visible = (store: ReturnType<typeof useRealtimeStore>): string =>
  JSON.stringify({ keys: Object.keys(store.connections), state: store.$state, events })

describe('useRealtimeStore keys', () => {
  it('finds a connection by the URL as the app wrote it (origin without a slash, http form, path)', async () => {
    const store = useRealtimeStore()
    const origin = server.url('').replace(/\/$/, '') // ws://127.0.0.1:<port>
    store.connect(origin)
    store.connect(server.url('/ws'))
    await waitFor(() => store.openCount === 2)

    expect(store.connection(origin)?.url).toBe(`${origin}/`)
    expect(store.connection(`${origin}/`)?.url).toBe(`${origin}/`)
    expect(store.connection(server.url('/ws'))?.status).toBe('open')
    expect(store.connection(server.url('/ws').replace('ws:', 'http:'))?.status).toBe('open')
    expect(store.connection(server.url('/other'))).toBeUndefined()
    expect(store.connection('not a url')).toBeUndefined()
  })

  it('finds a channel connection with or without its subprotocols; a token option never shows', async () => {
    const store = useRealtimeStore()
    const url = server.url('/channel')
    store.connect(url, { protocols: ['vue-realtime.v1'], token: () => SECRET_A })
    await waitFor(() => store.connection(url)?.status === 'open', { message: 'channel connection open' })

    expect(Object.keys(store.connections)).toEqual([`${url} vue-realtime.v1`])
    expect(store.connection(url, 'vue-realtime.v1')?.key).toBe(`${url} vue-realtime.v1`)
    expect(store.connection(url, ['other'])).toBeUndefined()
    expect(store.connection(url)?.protocols).toEqual(['vue-realtime.v1'])
    // The server got the token (so it was sent), the store and timeline never show it.
    expect(server.accepted[0]?.protocol).toBe('vue-realtime.v1')
    expect(visible(store)).not.toContain(SECRET_A)
  })

  it('keeps two query tokens on two sockets, and shows neither', async () => {
    const store = useRealtimeStore()
    const a = server.url(`/ws?token=${SECRET_A}&room=1`)
    const b = server.url(`/ws?token=${SECRET_B}&room=1`)
    store.connect(a)
    store.connect(b)
    await waitFor(() => store.openCount === 2, { message: 'two connections open' })
    expect(server.accepted).toHaveLength(2)

    const masked = server.url('/ws?token=***&room=1')
    expect(Object.keys(store.connections).sort()).toEqual([masked, `${masked} (2)`])
    expect(store.connection(a)?.key).toBe(masked)
    expect(store.connection(b)?.key).toBe(`${masked} (2)`)
    expect(store.connection(b)?.url).toBe(masked)
    expect(visible(store)).not.toContain(SECRET_A)
    expect(visible(store)).not.toContain(SECRET_B)

    // The store's actions still reach the right socket.
    expect(store.send(b, 'to b')).toBe('sent')
    await waitFor(() => server.received.includes('to b'))
  })

  it('masks the URL in error messages and hides a token subprotocol a user put in protocols', async () => {
    const store = useRealtimeStore()
    const closed = await startServer()
    const refused = closed.url(`/ws?access_token=${SECRET_A}`)
    await closed.close()
    store.connect(refused, { reconnect: false })
    store.connect(server.url('/legacy'), { protocols: ['vue-realtime.v1', `vue-realtime.token.${SECRET_B}`] })
    await waitFor(() => store.connection(refused)?.error != null, { message: 'refused connection reports an error' })
    await waitFor(() => store.connection(server.url('/legacy'))?.status === 'open')

    expect(store.connection(refused)!.error!.message).toContain('access_token=***')
    expect(store.connection(server.url('/legacy'))!.key).toBe(`${server.url('/legacy')} vue-realtime.v1,vue-realtime.token.***`)
    expect(events.some((e) => e.title === 'error')).toBe(true)
    expect(visible(store)).not.toContain(SECRET_A)
    expect(visible(store)).not.toContain(SECRET_B)
  })

  it('connection(url) is reactive: a render that looked before the connection existed updates', async () => {
    const store = useRealtimeStore()
    const url = server.url('/later')
    const seen: (string | undefined)[] = []
    const scope = effectScope()
    scope.run(() => watchEffect(() => seen.push(store.connection(url)?.status)))
    expect(seen).toEqual([undefined])
    store.connect(url)
    await waitFor(() => seen.includes('open'), { message: 'the effect saw the connection open' })
    scope.stop()
  })
})
