// @vitest-environment happy-dom
import { mount, type VueWrapper } from '@vue/test-utils'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { defineComponent, effectScope, h, nextTick, ref, watch } from 'vue'
import { ConnectionManager } from '../../src/core'
import { useWebSocket, type UseWebSocketOptions, type UseWebSocketReturn } from '../../src/vue'
import { waitFor } from '../support/wait'
import { startServer, testOptions, type TestServer } from './helpers'

let server: TestServer
let manager: ConnectionManager
const wrappers: VueWrapper[] = []

beforeEach(async () => {
  server = await startServer()
  manager = new ConnectionManager(testOptions)
})

afterEach(async () => {
  for (const w of wrappers.splice(0)) w.unmount()
  manager.dispose()
  await server.close()
  vi.restoreAllMocks()
})

/** Mounts a component that calls useWebSocket and hands back what it returned. */
function mountConsumer<In = unknown, Out = unknown>(
  url: Parameters<typeof useWebSocket>[0],
  options: UseWebSocketOptions<In, Out> = {},
): { wrapper: VueWrapper; ws: UseWebSocketReturn<In, Out> } {
  let ws!: UseWebSocketReturn<In, Out>
  const Consumer = defineComponent({
    setup() {
      ws = useWebSocket<In, Out>(url, { manager, ...options })
      return () => h('span', ws.status.value)
    },
  })
  const wrapper = mount(Consumer)
  wrappers.push(wrapper)
  return { wrapper, ws }
}

describe('useWebSocket in components', () => {
  it('shares one TCP connection among 50 components and closes it after the last unmounts', async () => {
    const consumers = Array.from({ length: 50 }, () => mountConsumer(server.url('/shared')))
    await waitFor(() => consumers.every(({ ws }) => ws.status.value === 'open'), { message: '50 consumers open' })
    expect(server.accepted).toHaveLength(1)
    expect(manager.connections.size).toBe(1)
    expect(consumers[0]!.wrapper.text()).toBe('open')

    for (const { wrapper } of consumers.slice(0, 49)) wrapper.unmount()
    expect(server.open()).toBe(1)
    consumers[49]!.wrapper.unmount()
    wrappers.length = 0
    await waitFor(() => server.open() === 0, { message: 'socket closed after idleTimeout' })
    expect(manager.connections.size).toBe(0)
    expect(server.accepted).toHaveLength(1)
  })

  it('swaps connections when the URL changes: the old one is released, the new one acquired', async () => {
    const url = ref(server.url('/a'))
    const { ws } = mountConsumer(url)
    await waitFor(() => ws.status.value === 'open')
    const first = ws.connection.value!
    expect(first.url).toBe(server.url('/a'))

    url.value = server.url('/b')
    await waitFor(() => ws.status.value === 'open' && ws.connection.value !== first, { message: 'new connection open' })
    expect(ws.connection.value!.url).toBe(server.url('/b'))
    await waitFor(() => server.open() === 1, { message: 'old socket closed' })
    expect(server.accepted).toHaveLength(2)
    expect(manager.get(server.url('/a'))).toBeUndefined()
  })

  it('does not connect while the URL is undefined, and connects once it is set', async () => {
    const url = ref<string | undefined>(undefined)
    const { ws } = mountConsumer(url)
    await nextTick()
    expect(manager.connections.size).toBe(0)
    expect(ws.status.value).toBe('idle')
    expect(ws.readyState.value).toBe(3)
    vi.spyOn(console, 'warn').mockImplementation(() => {})
    expect(ws.send('hello')).toBe('dropped')

    url.value = server.url('/late')
    await waitFor(() => ws.status.value === 'open')
    expect(server.accepted).toHaveLength(1)
    url.value = undefined
    await nextTick()
    expect(ws.status.value).toBe('idle')
    expect(ws.connection.value).toBeUndefined()
    await waitFor(() => server.open() === 0)
  })

  it('with immediate: false acquires nothing until open()', async () => {
    const { ws } = mountConsumer(server.url('/lazy'), { immediate: false })
    await nextTick()
    expect(manager.connections.size).toBe(0)
    ws.open()
    await waitFor(() => ws.status.value === 'open')
    ws.close(1000, 'bye')
    await waitFor(() => ws.status.value === 'closed')
    expect(ws.lastClose.value?.code).toBe(1000)
    ws.open()
    await waitFor(() => ws.status.value === 'open')
    expect(server.accepted).toHaveLength(2)
  })

  it('delivers every one of 5,000 rapid identical messages, keeps maxMessages, newest last, in batched triggers', async () => {
    let counted = 0
    const { ws } = mountConsumer<unknown>(server.url('/firehose'), { maxMessages: 100, onMessage: () => counted++ })
    let triggers = 0
    const scope = effectScope()
    scope.run(() => watch(ws.messages, () => triggers++, { flush: 'sync' }))
    await waitFor(() => ws.status.value === 'open')

    for (let i = 0; i < 5_000; i++) server.broadcast('{"type":"tick"}')
    server.broadcast('"last"')
    await waitFor(() => counted === 5_001, { message: '5,001 onMessage calls', timeout: 10_000 })
    await nextTick()
    expect(ws.messages.value).toHaveLength(100)
    expect(ws.messages.value[99]).toBe('last')
    expect(ws.messages.value[98]).toEqual({ type: 'tick' })
    expect(ws.data.value).toBe('last')
    // One trigger per batch, not one per message.
    expect(triggers).toBeGreaterThan(0)
    expect(triggers).toBeLessThan(5_001)

    ws.clear()
    expect(ws.messages.value).toHaveLength(0)
    scope.stop()
  })

  it('keeps only filtered messages, and passes non-JSON text through as strings', async () => {
    const seen: unknown[] = []
    const { ws } = mountConsumer<unknown>(server.url('/filter'), {
      filter: (m) => m !== 'skip',
      onMessage: (m) => seen.push(m),
    })
    await waitFor(() => ws.status.value === 'open')
    server.broadcast('skip')
    server.broadcast('not json {')
    await waitFor(() => ws.messages.value.length === 1)
    expect(ws.messages.value).toEqual(['not json {'])
    expect(seen).toEqual(['not json {'])
  })

  it('survives a throwing onMessage: the connection stays open and later messages arrive', async () => {
    const consoleError = vi.spyOn(console, 'error').mockImplementation(() => {})
    let calls = 0
    const { ws } = mountConsumer<unknown>(server.url('/throws'), {
      onMessage: () => {
        calls++
        if (calls === 1) throw new Error('boom')
      },
    })
    await waitFor(() => ws.status.value === 'open')
    server.broadcast('1')
    server.broadcast('2')
    await waitFor(() => ws.messages.value.length === 2)
    expect(calls).toBe(2)
    expect(ws.status.value).toBe('open')
    expect(ws.error.value).toMatchObject({ kind: 'callback' })
    expect(ws.error.value?.message).toContain('boom')
    expect(consoleError).toHaveBeenCalled()
    expect(ws.send({ ok: true })).toBe('sent')
    await waitFor(() => server.received.includes('{"ok":true}'))
  })

  it('rejects unserialisable data at send with a TypeError and queues nothing', async () => {
    const { ws } = mountConsumer(server.url('/circular'))
    const circular: Record<string, unknown> = {}
    circular.self = circular
    // Before the socket opens (would queue) and after (would send).
    expect(() => ws.send(circular)).toThrow(TypeError)
    expect(ws.queued.value).toBe(0)
    await waitFor(() => ws.status.value === 'open')
    expect(() => ws.send(circular)).toThrow(TypeError)
    expect(ws.queued.value).toBe(0)
    expect(ws.send('fine')).toBe('sent')
    await waitFor(() => server.received.length === 1)
    expect(server.received).toEqual(['fine'])
  })

  it('queues sends made before open and flushes them in order', async () => {
    const { ws } = mountConsumer(server.url('/queue'))
    expect(ws.send('a')).toBe('queued')
    expect(ws.send('b')).toBe('queued')
    await nextTick()
    expect(ws.queued.value).toBe(2)
    await waitFor(() => server.received.length === 2)
    expect(server.received).toEqual(['a', 'b'])
    await waitFor(() => ws.queued.value === 0)
  })

  it('reports an invalid URL through error instead of throwing', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {})
    const onError = vi.fn()
    const { ws } = mountConsumer('ftp://example.com/x', { onError })
    await nextTick()
    expect(ws.status.value).toBe('failed')
    expect(ws.error.value?.kind).toBe('invalid-url')
    expect(ws.error.value?.message).toContain('ftp://example.com/x')
    expect(onError).toHaveBeenCalledOnce()
    expect(manager.connections.size).toBe(0)
  })

  it('calls onOpen and onClose, and reconnect() retries after close()', async () => {
    const onOpen = vi.fn()
    const onClose = vi.fn()
    const { ws } = mountConsumer(server.url('/events'), { onOpen, onClose })
    await waitFor(() => onOpen.mock.calls.length === 1)
    ws.close()
    await waitFor(() => onClose.mock.calls.length === 1)
    expect(ws.status.value).toBe('closed')
    ws.reconnect()
    await waitFor(() => onOpen.mock.calls.length === 2)
    expect(ws.status.value).toBe('open')
  })

  it('releases when a plain effect scope is disposed (outside components)', async () => {
    const scope = effectScope()
    const ws = scope.run(() => useWebSocket(server.url('/scope'), { manager }))!
    await waitFor(() => ws.status.value === 'open')
    expect(manager.refCount(ws.connection.value!)).toBe(1)
    scope.stop()
    await waitFor(() => server.open() === 0)
    expect(manager.connections.size).toBe(0)
  })
})
