// @vitest-environment happy-dom
/**
 * useChannel against the real server: URL and topic switches, two views of one topic, and the
 * `pending` list (issue 14 bugs 5, 6, 7 and 16).
 */
import { mount } from '@vue/test-utils'
import { afterEach, describe, expect, it } from 'vitest'
import { defineComponent, h, nextTick, ref } from 'vue'
import { createManualEnvironment } from '../../src/core/environment'
import { ConnectionManager } from '../../src/core/manager'
import type { GapInfo } from '../../src/core/protocolClient'
import { createRealtimeServer, type RealtimeServer, type RealtimeServerOptions } from '../../src/server'
import { useChannel, type UseChannelOptions, type UseChannelReturn } from '../../src/vue/useChannel'
import { waitFor } from '../support/wait'
import { NodeWebSocket } from './helpers'

const cleanups: (() => unknown)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** A server on loopback; `stored(topic)` lists the data published to a topic, in order. */
async function startServer(options: RealtimeServerOptions = {}): Promise<RealtimeServer & { stored: (topic: string) => unknown[] }> {
  const server = createRealtimeServer({ port: 0, host: '127.0.0.1', ...options })
  await server.ready
  cleanups.push(() => server.close({ timeout: 200 }))
  const published: { topic: string; data: unknown }[] = []
  server.on('publish', (message) => published.push(message))
  return Object.assign(server, { stored: (topic: string) => published.filter((m) => m.topic === topic).map((m) => m.data) })
}

function manager(): ConnectionManager {
  const m = new ConnectionManager({ WebSocket: NodeWebSocket, reconnect: { minDelay: 20, maxDelay: 200 }, idleTimeout: 0 })
  cleanups.push(() => m.dispose())
  return m
}

/** Mounts one component holding every channel `setup` returns. */
function mountChannels<T>(setup: () => UseChannelReturn<T>[]): UseChannelReturn<T>[] {
  let channels: UseChannelReturn<T>[] = []
  const wrapper = mount(
    defineComponent({
      setup() {
        channels = setup()
        return () => h('div')
      },
    }),
  )
  cleanups.push(() => wrapper.unmount())
  return channels
}

const seqs = <T>(channel: UseChannelReturn<T>) => channel.messages.value.map((m) => m.seq)
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i)

describe('useChannel joins', () => {
  it('a changed URL with the same topic shows the history once (bug 5)', async () => {
    const server = await startServer()
    for (let i = 1; i <= 5; i++) await server.publish('room:url', i)
    const url = ref(`${server.url}?v=1`)
    const m = manager()
    const [channel] = mountChannels(() => [useChannel<number>('room:url', { url, manager: m })])
    await waitFor(() => channel.subscribed.value && channel.messages.value.length === 5)
    url.value = `${server.url}?v=2`
    await waitFor(() => m.connections.size === 1 && [...m.connections.keys()][0].includes('?v=2'))
    await waitFor(() => channel.subscribed.value)
    await server.publish('room:url', 6)
    await waitFor(() => channel.messages.value.some((msg) => msg.seq === 6))
    expect(seqs(channel)).toEqual(range(1, 6))
  })

  it('a second useChannel on the same topic gets subscribed, recovered, presence and its history (bug 6)', async () => {
    const server = await startServer()
    for (let i = 1; i <= 8; i++) await server.publish('room:twice', i)
    const m = manager()
    const [first] = mountChannels(() => [useChannel<number>('room:twice', { url: server.url, manager: m, history: 3 })])
    await waitFor(() => first.subscribed.value && first.messages.value.length === 3)
    const [second] = mountChannels(() => [useChannel<number>('room:twice', { url: server.url, manager: m, history: 5 })])
    await waitFor(() => second.subscribed.value)
    await waitFor(() => second.messages.value.length === 5)
    expect(second.recovered.value).toBe(true)
    expect(second.presence.value.map((p) => p.clientId)).toEqual([second.clientId.value])
    expect(seqs(second)).toEqual(range(4, 8))
    expect(seqs(first)).toEqual(range(6, 8))
    expect(server.clients.size).toBe(1)
  })

  it('retry(id) after a topic switch publishes into the topic of the message (bug 7)', async () => {
    let allow = false
    const server = await startServer({ authorize: (_user, _topic, action) => action !== 'publish' || allow })
    const topic = ref('room:a')
    const [channel] = mountChannels(() => [useChannel<string>(() => topic.value, { url: server.url, manager: manager() })])
    await waitFor(() => channel.subscribed.value)
    await expect(channel.publish('for room a')).rejects.toMatchObject({ code: 'forbidden' })
    const [failed] = channel.pending.value
    expect(failed).toMatchObject({ topic: 'room:a', state: 'failed' })
    topic.value = 'room:b'
    await waitFor(() => channel.subscribed.value)
    allow = true
    await channel.retry(failed.id)
    expect(server.stored('room:a')).toEqual(['for room a'])
    expect(server.stored('room:b')).toEqual([])
    expect(channel.pending.value).toEqual([])
  })

  it('pending entries are per topic: the same id acked on another topic leaves a failed one listed', async () => {
    let allow = false
    const server = await startServer({ authorize: (_user, topic, action) => action !== 'publish' || topic !== 'room:a' || allow })
    const topic = ref('room:a')
    const [channel] = mountChannels(() => [useChannel<string>(() => topic.value, { url: server.url, manager: manager() })])
    await waitFor(() => channel.subscribed.value)
    await expect(channel.publish('in a', { id: 'same' })).rejects.toMatchObject({ code: 'forbidden' })
    topic.value = 'room:b'
    await waitFor(() => channel.subscribed.value)
    await channel.publish('in b', { id: 'same' })
    await nextTick()
    expect(channel.pending.value).toMatchObject([{ id: 'same', topic: 'room:a', state: 'failed' }])
    allow = true
    await channel.retry('same')
    expect(channel.pending.value).toEqual([])
    expect(server.stored('room:a')).toEqual(['in a'])
    expect(server.stored('room:b')).toEqual(['in b'])
  })

  it('a refused subscribe: error, not subscribed; refused again on a held topic, every view of it says so', async () => {
    let allow = true
    const server = await startServer({ authorize: (_user, _topic, action) => action !== 'subscribe' || allow })
    const m = manager()
    const [first] = mountChannels(() => [useChannel<number>('room:locked', { url: server.url, manager: m })])
    await waitFor(() => first.subscribed.value)
    allow = false
    const [second] = mountChannels(() => [useChannel<number>('room:locked', { url: server.url, manager: m })])
    await waitFor(() => second.error.value !== null)
    expect(second.error.value).toMatchObject({ code: 'forbidden' })
    expect(second.subscribed.value).toBe(false)
    // The last answer is the state: the topic is no longer subscribed on this socket.
    expect(first.subscribed.value).toBe(false)
    expect(first.error.value).toMatchObject({ code: 'forbidden' })
    allow = true
    first.reconnect()
    await waitFor(() => first.subscribed.value && second.subscribed.value)
    await server.publish('room:locked', 1)
    await waitFor(() => first.messages.value.length === 1 && second.messages.value.length === 1)
  })

  it('a subscribe refused for now (`internal`) is asked again on the same socket; once it joins, `error` is cleared', async () => {
    let broken = true
    const server = await startServer({
      authorize: () => {
        if (broken) throw new Error('the permission store is away')
        return true
      },
    })
    server.on('error', () => {}) // the throwing hook is reported; expected here
    const m = manager()
    const [channel] = mountChannels(() => [useChannel<number>('room:later', { url: server.url, manager: m })])
    await waitFor(() => channel.error.value !== null)
    expect(channel.error.value).toMatchObject({ code: 'internal' })
    expect(channel.subscribed.value).toBe(false)
    const connection = m.get(server.url, 'vue-realtime.v1')!
    let opens = 0
    connection.on('open', () => opens++)
    broken = false
    await waitFor(() => channel.subscribed.value, { timeout: 10_000, message: 'the refused subscribe to be asked again' })
    expect(channel.error.value).toBeNull()
    expect(opens, 'asked again on the same socket').toBe(0)
    await server.publish('room:later', 1)
    await waitFor(() => channel.messages.value.length === 1)
  })

  it('a channel given its topic after its socket opened knows its clientId (the welcome came before the topic)', async () => {
    // Found by the channel model: a view that switched URL with no topic, then got one, showed
    // clientId null for the socket's life (its protocol client was made after the welcome).
    const server = await startServer()
    const m = manager()
    const topic = ref<string | undefined>(undefined)
    const [channel] = mountChannels(() => [useChannel<number>(() => topic.value, { url: server.url, manager: m })])
    await waitFor(() => channel.status.value === 'open' && server.clients.size === 1)
    const [id] = server.clients.keys()
    topic.value = 'room:after-welcome'
    await waitFor(() => channel.subscribed.value)
    expect(channel.clientId.value).toBe(id)
  })

  it('publish() without a connection or a topic rejects and leaves no pending entry (bug 16)', async () => {
    const server = await startServer()
    const url = ref<string | undefined>(undefined)
    const topic = ref<string | undefined>('room:none')
    const m = manager()
    const [channel] = mountChannels(() => [useChannel<string>(() => topic.value, { url, manager: m })])
    await expect(channel.publish('lost?')).rejects.toMatchObject({ code: 'no_connection' })
    expect(channel.pending.value).toEqual([])
    url.value = server.url
    topic.value = undefined
    await nextTick()
    await expect(channel.publish('lost?')).rejects.toMatchObject({ code: 'no_connection' })
    expect(channel.pending.value).toEqual([])
    topic.value = 'room:none'
    await waitFor(() => channel.subscribed.value)
    expect(channel.pending.value).toEqual([])
    expect(server.stored('room:none')).toEqual([])
  })

  it('reconnect() on an open link: not subscribed until the new socket joins; a request in flight is told (model counterexample)', async () => {
    const server = await startServer({ onRequest: { never: () => new Promise(() => {}) } })
    const [channel] = mountChannels(() => [useChannel<number>('room:again', { url: server.url, manager: manager() })])
    await waitFor(() => channel.subscribed.value)
    const asked = channel.request(undefined, { method: 'never', timeout: 10_000 })
    const settled = asked.catch((error: { code?: string }) => error.code)
    const joins: boolean[] = []
    channel.reconnect()
    joins.push(channel.subscribed.value)
    await waitFor(() => channel.subscribed.value)
    expect(joins).toEqual([false])
    expect(await settled).toBe('connection_lost')
  })

  it('a rejoin the history cannot cover: recovered false, onGap before the newest are appended', async () => {
    const server = await startServer({ historyLimit: 5 })
    const env = createManualEnvironment()
    const m = new ConnectionManager({ WebSocket: NodeWebSocket, reconnect: { minDelay: 20, maxDelay: 200 }, idleTimeout: 0, environment: env })
    cleanups.push(() => m.dispose())
    const gaps: { info: GapInfo; shown: number }[] = []
    const [channel] = mountChannels(() => [
      useChannel<number>('room:gap', { url: server.url, manager: m, onGap: (info) => gaps.push({ info, shown: channel.messages.value.length }) }),
    ])
    await waitFor(() => channel.subscribed.value)
    await server.publish('room:gap', 1)
    await waitFor(() => channel.messages.value.length === 1)
    env.emit({ type: 'offline' })
    for (let i = 2; i <= 20; i++) await server.publish('room:gap', i)
    env.emit({ type: 'online' })
    await waitFor(() => channel.subscribed.value && channel.messages.value.length === 6)
    expect(channel.recovered.value).toBe(false)
    expect(gaps).toEqual([{ info: expect.objectContaining({ topic: 'room:gap', since: 1, head: 20 }), shown: 1 }])
    expect(seqs(channel)).toEqual([1, 16, 17, 18, 19, 20])
  })
})
