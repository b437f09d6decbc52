// @vitest-environment happy-dom
import { mount } from '@vue/test-utils'
import { afterEach, describe, expect, it } from 'vitest'
import { defineComponent, h, nextTick, ref } from 'vue'
import WebSocket from 'ws'
import { ConnectionManager } from '../../src/core/manager'
import type { WebSocketConstructor } from '../../src/core/types'
import { createRealtimeServer, type RealtimeServer } from '../../src/server'
import { createRealtime } from '../../src/vue/plugin'
import { useChannel, type UseChannelReturn } from '../../src/vue/useChannel'
import { waitFor } from '../support/wait'

const cleanups: (() => unknown)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function chatServer(): Promise<RealtimeServer> {
  const server = createRealtimeServer({ port: 0, onRequest: { whoami: (_data, client) => client.id } })
  await server.ready
  cleanups.push(() => server.close({ timeout: 200 }))
  return server
}

function mountChannel<T>(server: RealtimeServer, topic: ReturnType<typeof ref<string>>, options = {}) {
  let channel!: UseChannelReturn<T>
  const plugin = createRealtime({
    url: server.url,
    WebSocket: WebSocket as unknown as WebSocketConstructor,
    reconnect: { minDelay: 50, maxDelay: 200 },
    idleTimeout: 0,
    devtools: false,
  })
  const wrapper = mount(
    defineComponent({
      setup() {
        channel = useChannel<T>(() => topic.value, options)
        return () => h('ul', channel.messages.value.map((m) => h('li', { key: m.id }, String(m.data))))
      },
    }),
    { global: { plugins: [plugin] } },
  )
  cleanups.push(() => wrapper.unmount())
  return { channel: () => channel, wrapper, manager: plugin.manager }
}

describe('useChannel', () => {
  it('joins, publishes with an ack, and renders each message once', async () => {
    const server = await chatServer()
    const topic = ref('room:vue')
    const { channel, wrapper } = mountChannel<string>(server, topic)
    await waitFor(() => channel().subscribed.value)
    const sending = channel().publish('hello <b>world</b>')
    expect(channel().pending.value.map((p) => p.data)).toEqual(['hello <b>world</b>'])
    const ack = await sending
    expect(ack.seq).toBe(1)
    await waitFor(() => channel().messages.value.length === 1)
    await nextTick()
    expect(channel().pending.value).toEqual([])
    // Rendered as text, never as HTML.
    expect(wrapper.find('li').text()).toBe('hello <b>world</b>')
    expect(wrapper.find('b').exists()).toBe(false)
    expect(channel().clientId.value).toBeTruthy()
    expect(await channel().request(undefined, { method: 'whoami' })).toBe(channel().clientId.value)
  })

  it('switches rooms when the topic changes, with history on join', async () => {
    const server = await chatServer()
    await server.publish('room:b', 'old news')
    const topic = ref('room:a')
    const { channel } = mountChannel<string>(server, topic)
    await waitFor(() => channel().subscribed.value)
    await channel().publish('in room a')
    await waitFor(() => channel().messages.value.length === 1)
    topic.value = 'room:b'
    await waitFor(() => channel().messages.value.some((m) => m.data === 'old news'))
    expect(channel().messages.value.map((m) => m.topic)).toEqual(['room:b'])
    await waitFor(() => server.topics().includes('room:b') && !server.topics().includes('room:a'))
  })

  it('drops, counts and reports payloads that fail `parse`, never throwing into the app', async () => {
    const server = await chatServer()
    const topic = ref('room:typed')
    const parse = (value: unknown): { text: string } => {
      if (typeof value !== 'object' || value === null || typeof (value as { text?: unknown }).text !== 'string') {
        throw new TypeError('expected { text: string }')
      }
      return value as { text: string }
    }
    const { channel } = mountChannel<{ text: string }>(server, topic, { parse })
    await waitFor(() => channel().subscribed.value)
    await server.publish('room:typed', { nope: true })
    await server.publish('room:typed', { text: 'fine' })
    await waitFor(() => channel().messages.value.length === 1)
    expect(channel().messages.value[0].data).toEqual({ text: 'fine' })
    expect(channel().invalid.value).toBe(1)
    expect(channel().error.value?.message).toMatch(/failed validation: expected \{ text: string \}/)
  })

  it('marks a refused publish failed and retries it with the same id, shown once', async () => {
    let allow = false
    const server = createRealtimeServer({ port: 0, authorize: (_user, _topic, action) => action !== 'publish' || allow })
    await server.ready
    cleanups.push(() => server.close({ timeout: 200 }))
    const topic = ref('room:retry')
    const { channel } = mountChannel<string>(server, topic)
    await waitFor(() => channel().subscribed.value)
    await expect(channel().publish('try me')).rejects.toMatchObject({ code: 'forbidden' })
    const [failed] = channel().pending.value
    expect(failed).toMatchObject({ data: 'try me', state: 'failed' })
    expect(channel().error.value?.message).toMatch(/forbidden/)
    allow = true
    const ack = await channel().retry(failed.id)
    expect(ack).toMatchObject({ id: failed.id, seq: 1 })
    await waitFor(() => channel().messages.value.length === 1)
    expect(channel().pending.value).toEqual([])
    expect(channel().messages.value.map((m) => [m.id, m.data])).toEqual([[failed.id, 'try me']])
  })

  it('shares one socket between channels of one URL and releases it on unmount', async () => {
    const server = await chatServer()
    const manager = new ConnectionManager({ WebSocket: WebSocket as unknown as WebSocketConstructor, idleTimeout: 0 })
    const channels: UseChannelReturn<string>[] = []
    const wrapper = mount(
      defineComponent({
        setup() {
          for (const name of ['room:1', 'room:2', 'room:3']) channels.push(useChannel<string>(name, { url: server.url, manager }))
          return () => h('div')
        },
      }),
    )
    await waitFor(() => channels.every((c) => c.subscribed.value))
    expect(server.clients.size).toBe(1)
    expect(manager.connections.size).toBe(1)
    wrapper.unmount()
    await waitFor(() => server.clients.size === 0)
    expect(manager.connections.size).toBe(0)
  })
})
