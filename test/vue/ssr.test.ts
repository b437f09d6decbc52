// Runs in Node (no window): server rendering must construct no socket and never throw.
import { createPinia } from 'pinia'
import { describe, expect, it } from 'vitest'
import { createSSRApp, defineComponent, h } from 'vue'
import { renderToString } from 'vue/server-renderer'
import { ConnectionManager } from '../../src/core'
import { useRealtimeStore } from '../../src/pinia'
import { createRealtime, useWebSocket } from '../../src/vue'
import { webSocketSpy } from './helpers'

const URL_A = 'ws://127.0.0.1:9/ssr'

function statusComponent(options: Parameters<typeof useWebSocket>[1] = {}) {
  return defineComponent({
    setup() {
      const ws = useWebSocket(URL_A, options)
      // Everything a template might touch during SSR.
      return () =>
        h('p', [ws.status.value, ws.readyState.value, ws.messages.value.length, String(ws.data.value), String(ws.retryIn.value), ws.send('x')].join('|'))
    },
  })
}

describe('server rendering', () => {
  it('renders with the plugin installed and constructs no socket', async () => {
    const Spy = webSocketSpy()
    const realtime = createRealtime({ WebSocket: Spy })
    const app = createSSRApp(statusComponent()).use(realtime)
    const html = await renderToString(app)
    expect(html).toBe('<p>idle|3|0|undefined|null|dropped</p>')
    expect(Spy.calls).toHaveLength(0)
    expect(realtime.manager.connections.size).toBe(0)
  })

  it('renders without the plugin (no default manager on the server)', async () => {
    const Spy = webSocketSpy()
    const html = await renderToString(createSSRApp(statusComponent({ WebSocket: Spy })))
    expect(html).toContain('idle')
    expect(Spy.calls).toHaveLength(0)
  })

  it('ignores even an explicit manager while rendering', async () => {
    const Spy = webSocketSpy()
    const manager = new ConnectionManager({ WebSocket: Spy })
    const html = await renderToString(createSSRApp(statusComponent({ manager })))
    expect(html).toContain('idle')
    expect(Spy.calls).toHaveLength(0)
    expect(manager.connections.size).toBe(0)
  })

  it('leaves the Pinia store empty and inert', async () => {
    const Spy = webSocketSpy()
    const Root = defineComponent({
      setup() {
        const store = useRealtimeStore()
        const connection = store.connect(URL_A)
        return () => h('p', `${store.openCount}|${Object.keys(store.connections).length}|${String(connection)}|${store.send(URL_A, 'x')}`)
      },
    })
    const app = createSSRApp(Root).use(createPinia()).use(createRealtime({ WebSocket: Spy }))
    expect(await renderToString(app)).toBe('<p>0|0|undefined|dropped</p>')
    expect(Spy.calls).toHaveLength(0)
  })
})
