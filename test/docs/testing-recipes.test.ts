// @vitest-environment happy-dom
// The recipes of docs/guide/testing.md: the guide shows these regions, so they run here.
import { afterEach, describe, expect, it } from 'vitest'
import { vi } from 'vitest'
// #region imports
import { mount } from '@vue/test-utils'
import { createSSRApp, defineComponent, h } from 'vue'
import { renderToString } from 'vue/server-renderer'
import WebSocket from 'ws'
import { createRealtime, useChannel, useWebSocket, type WebSocketConstructor } from 'vue-realtime'
import { createManualEnvironment } from 'vue-realtime/core'
import { createRealtimeServer, type RealtimeServer } from 'vue-realtime/server'
// #endregion imports

const cleanups: (() => unknown)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  vi.useRealTimers()
})

/** Waits for `predicate`, bounded (the guide's `vi.waitFor` does the same). */
const until = (predicate: () => boolean) => vi.waitFor(() => expect(predicate()).toBe(true), { timeout: 5_000, interval: 10 })

describe('testing your app (docs/guide/testing.md)', () => {
  it('against the real protocol server on a free port', async () => {
    // #region real-server
    const server: RealtimeServer = createRealtimeServer({ port: 0 }) // 127.0.0.1, a free port
    await server.ready
    cleanups.push(() => server.close())

    const Chat = defineComponent({
      setup: () => useChannel<string>('room:test'),
      render() {
        return h('ul', this.messages.map((m) => h('li', m.data)))
      },
    })
    const wrapper = mount(Chat, {
      global: {
        plugins: [createRealtime({ url: server.url, WebSocket: WebSocket as unknown as WebSocketConstructor })],
      },
    })
    cleanups.push(() => wrapper.unmount())

    await vi.waitFor(() => expect(wrapper.vm.subscribed).toBe(true))
    const ack = await wrapper.vm.publish('hello')
    expect(ack.seq).toBe(1)
    await vi.waitFor(() => expect(wrapper.text()).toBe('hello'))
    // #endregion real-server
  })

  it('a planned restart: the client reconnects and rejoins', async () => {
    const server = createRealtimeServer({ port: 0 })
    await server.ready
    const port = server.port
    let restarted: RealtimeServer | undefined
    cleanups.push(() => restarted?.close())
    const wrapper = mount(
      defineComponent({
        setup: () => useChannel<string>('room:test'),
        render: () => h('p'),
      }),
      {
        global: {
          plugins: [
            createRealtime({ url: server.url, WebSocket: WebSocket as unknown as WebSocketConstructor, reconnect: { minDelay: 50 } }),
          ],
        },
      },
    )
    cleanups.push(() => wrapper.unmount())
    await until(() => wrapper.vm.subscribed)
    // #region restart
    await server.close({ code: 1012 }) // "service restart": retryable
    await vi.waitFor(() => expect(wrapper.vm.status).toBe('reconnecting'))
    restarted = createRealtimeServer({ port }) // the same port: the client finds it
    await vi.waitFor(() => expect(wrapper.vm.subscribed).toBe(true), { timeout: 5_000 })
    // #endregion restart
  })

  it('without a server: drive a fake socket', async () => {
    // #region fake-socket
    /** A WebSocket the test drives: it opens when told, and records what was sent. */
    class TestSocket {
      static last: TestSocket
      readyState = 0
      bufferedAmount = 0
      protocol = ''
      binaryType = 'arraybuffer'
      sent: unknown[] = []
      onopen: ((event: unknown) => void) | null = null
      onmessage: ((event: { data: unknown }) => void) | null = null
      onclose: ((event: { code: number; reason: string; wasClean: boolean }) => void) | null = null
      onerror: ((event: unknown) => void) | null = null
      constructor(readonly url: string) {
        TestSocket.last = this
      }
      send(data: unknown) {
        this.sent.push(data)
      }
      close(code = 1000, reason = '') {
        this.readyState = 3
        this.onclose?.({ code, reason, wasClean: true })
      }
      // Driven by the test:
      open() {
        this.readyState = 1
        this.onopen?.({})
      }
      receive(data: string) {
        this.onmessage?.({ data })
      }
    }

    const Ticker = defineComponent({
      setup: () => useWebSocket<{ price: number }>('wss://example.test/ticks', { heartbeat: false }),
      render() {
        return h('p', `${this.status} ${this.data?.price ?? '-'}`)
      },
    })
    const wrapper = mount(Ticker, { global: { plugins: [createRealtime({ WebSocket: TestSocket })] } })
    expect(wrapper.text()).toBe('connecting -')
    TestSocket.last.open()
    TestSocket.last.receive('{"price":42}')
    await vi.waitFor(() => expect(wrapper.text()).toBe('open 42'))
    // #endregion fake-socket
    wrapper.unmount()
  })

  it('offline and online, under fake timers', async () => {
    const server = createRealtimeServer({ port: 0 })
    await server.ready
    cleanups.push(() => server.close())
    // #region environment
    const environment = createManualEnvironment() // online/visibility/page events you emit
    const realtime = createRealtime({ url: server.url, WebSocket: WebSocket as unknown as WebSocketConstructor, environment })
    const wrapper = mount(
      defineComponent({ setup: () => useWebSocket(server.url), render: () => h('p') }),
      { global: { plugins: [realtime] } },
    )
    await vi.waitFor(() => expect(wrapper.vm.status).toBe('open'))
    environment.emit({ type: 'offline' })
    expect(wrapper.vm.status).toBe('offline') // the socket is dropped at once, retries wait
    environment.emit({ type: 'online' })
    await vi.waitFor(() => expect(wrapper.vm.status).toBe('open'))
    // #endregion environment
    wrapper.unmount()
  })

  it('server rendering opens nothing', async () => {
    // #region ssr
    const Status = defineComponent({
      setup: () => useWebSocket('wss://example.test/ws'),
      render() {
        return h('p', this.status)
      },
    })
    const html = await renderToString(createSSRApp(Status).use(createRealtime()))
    expect(html).toBe('<p>idle</p>') // no socket was constructed on the server
    // #endregion ssr
  })
})
