/**
 * Channels across tabs against the real protocol server on loopback: three simulated tabs
 * (one in-memory profile) share one socket; each has its own protocol client.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ConnectionManager, createManualEnvironment, MemoryProfile, ProtocolClient, protocolConnectionOptions, tabSharing, type ConnectionOptions, type ManualEnvironment } from '../../src/core'
import type { MessageFrame, SubscribedFrame } from '../../src/core/protocol'
import { createRealtimeServer, type PublishedMessage, type RealtimeServer } from '../../src/server'
import { waitFor } from '../support/wait'
import { NodeWebSocket } from '../vue/helpers'

let server: RealtimeServer
let profile: MemoryProfile
const managers: ConnectionManager[] = []
const published: PublishedMessage[] = []

beforeEach(async () => {
  // "readonly" may be read by anyone and published to by no client: its publishes are refused with a `ref`.
  server = createRealtimeServer({ port: 0, host: '127.0.0.1', presence: false, authorize: (_user, topic, action) => !(topic === 'readonly' && action === 'publish') })
  await server.ready
  server.on('publish', (m) => published.push(m))
  profile = new MemoryProfile()
})
afterEach(async () => {
  for (const m of managers.splice(0)) m.dispose()
  published.length = 0
  await server.close({ timeout: 200 })
})

function openTab(shareAcrossTabs: ConnectionOptions['shareAcrossTabs'] = tabSharing()) {
  const env: ManualEnvironment = createManualEnvironment({}, profile)
  const manager = new ConnectionManager({ WebSocket: NodeWebSocket, idleTimeout: 0, environment: env, shareAcrossTabs, reconnect: { minDelay: 20, maxDelay: 100 } })
  managers.push(manager)
  const connection = manager.acquire(server.url, protocolConnectionOptions)
  const client = ProtocolClient.for(connection)
  const received: number[] = []
  const joins: SubscribedFrame[] = []
  /** Errors shown to this tab: on its topics (what useChannel's `error` shows) and connection-wide. */
  const errors: string[] = []
  client.onError((e) => errors.push(`client: ${e.message}`))
  const join = (topic = 'room', history = 0) =>
    client.subscribe(topic, { message: (m: MessageFrame) => received.push(m.seq!), subscribed: (s) => joins.push(s), error: (e) => errors.push(`${topic}: ${e.message}`) }, { history })
  return { env, manager, connection, client, received, joins, join, errors }
}

describe('channels across tabs', () => {
  it('shareAcrossTabs: true (the tab code loaded on first use): one socket, a subscribe made while it loads is kept, every tab gets every message once', async () => {
    const tabs = [openTab(true), openTab(true), openTab({ via: 'auto' })]
    for (const t of tabs) t.join()
    await waitFor(() => tabs.every((t) => t.joins.length === 1), { message: 'every tab subscribed' })
    expect(server.clients.size).toBe(1)
    expect(tabs.map((t) => t.connection.state.role).sort()).toEqual(['follower', 'follower', 'leader'])
    for (let i = 1; i <= 3; i++) await tabs[i - 1].client.publish('room', { i })
    await waitFor(() => tabs.every((t) => t.received.length === 3))
    for (const t of tabs) expect(t.received).toEqual([1, 2, 3])
    expect(published).toHaveLength(3)
  })

  it('subscriptions add up on one socket: every tab gets every message once; the last tab to leave unsubscribes', async () => {
    const tabs = [openTab(), openTab(), openTab()]
    const leaves = tabs.map((t) => t.join())
    await waitFor(() => tabs.every((t) => t.joins.length === 1), { message: 'every tab subscribed' })
    expect(server.clients.size).toBe(1)
    for (let i = 1; i <= 5; i++) await server.publish('room', { i })
    await waitFor(() => tabs.every((t) => t.received.length === 5))
    for (const t of tabs) expect(t.received).toEqual([1, 2, 3, 4, 5])
    leaves[0]()
    leaves[1]()
    await server.publish('room', { i: 6 })
    await waitFor(() => tabs[2].received.length === 6)
    expect(server.topics()).toContain('room')
    expect(tabs[0].received).toHaveLength(5)
    leaves[2]()
    await waitFor(() => !server.topics().includes('room'), { message: 'unsubscribed upstream with the last tab' })
    for (const t of tabs) expect(t.joins).toHaveLength(1) // nobody saw another tab's answer
  })

  it('a tab that crashes releases its topics too (the leader waits on a lock the tab held)', async () => {
    const a = openTab()
    a.join('shared')
    await waitFor(() => a.joins.length === 1)
    const b = openTab()
    b.join('shared')
    b.join('only-b')
    await waitFor(() => b.joins.length === 2)
    expect(server.topics().sort()).toEqual(['only-b', 'shared'])
    b.env.tab.crash()
    await waitFor(() => !server.topics().includes('only-b'), { message: 'the crashed tab\'s topic unsubscribed upstream' })
    expect(server.topics()).toEqual(['shared'])
  })

  it('a tab that joins later gets its own history; the others see no second answer and no repeat', async () => {
    const a = openTab()
    a.join()
    await waitFor(() => a.joins.length === 1)
    for (let i = 1; i <= 4; i++) await server.publish('room', { i })
    await waitFor(() => a.received.length === 4)
    const b = openTab()
    b.join('room', 2)
    await waitFor(() => b.joins.length === 1)
    expect(b.received).toEqual([3, 4])
    await server.publish('room', { i: 5 })
    await waitFor(() => a.received.length === 5 && b.received.length === 3)
    expect(a.received).toEqual([1, 2, 3, 4, 5])
    expect(a.joins).toHaveLength(1)
  })

  it('a tab that lets a topic go and joins it again at once gets the history of its new join (the answer to the first is not taken for it)', async () => {
    const [a, b] = [openTab(), openTab()]
    a.join()
    await waitFor(() => a.joins.length === 1)
    for (let i = 1; i <= 3; i++) await server.publish('room', { i })
    await waitFor(() => a.received.length === 3)
    await waitFor(() => b.connection.status === 'open')
    b.join()()
    b.join('room', 2)
    await waitFor(() => b.joins.length === 1)
    await server.publish('room', { i: 4 })
    await waitFor(() => a.received.length === 4 && b.received.length >= 3)
    expect(b.received).toEqual([2, 3, 4])
    expect(b.joins).toHaveLength(1)
    expect(a.joins).toHaveLength(1)
    expect([...a.errors, ...b.errors]).toEqual([])
  })

  it('follower publishes in flight during a hand-over reach the server exactly once, and every publish resolves', async () => {
    const tabs = [openTab(), openTab(), openTab()]
    for (const t of tabs) t.join()
    await waitFor(() => tabs.every((t) => t.joins.length === 1))
    const leader = tabs.find((t) => t.connection.state.role === 'leader')!
    const follower = tabs.find((t) => t !== leader)!
    const acks = Array.from({ length: 20 }, (_, i) => follower.client.publish('room', { i }, { id: `p${i}` }))
    // The leader goes while those are on their way to it (or in its socket's buffer).
    leader.env.emit({ type: 'pagehide', persisted: false })
    const seqs = (await Promise.all(acks)).map((ack) => ack.seq)
    expect(new Set(seqs).size).toBe(20)
    const ids = published.map((m) => m.id)
    expect(ids.filter((id) => String(id).startsWith('p')).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `p${i}`).sort())
    const others = tabs.filter((t) => t !== leader)
    await waitFor(() => others.every((t) => t.received.length === 20), { message: 'every remaining tab saw the 20 once' })
    for (const t of others) expect(t.received).toEqual([...t.received].sort((x, y) => x - y))
    for (const t of others) expect(new Set(t.received).size).toBe(20)
  })

  it('a refusal with a ref (a publish refused) shows only in the tab that published, not in the other tabs holding the topic', async () => {
    const tabs = [openTab(), openTab(), openTab()]
    for (const t of tabs) t.join('readonly')
    await waitFor(() => tabs.every((t) => t.joins.length === 1), { message: 'every tab subscribed' })
    // Leader and followers alike publish, and are refused.
    for (const [i, t] of tabs.entries()) {
      await expect(t.client.publish('readonly', { i })).rejects.toMatchObject({ code: 'forbidden' })
    }
    // Frames reach each tab in the socket's order: once this message is in, any refusal sent to it is too.
    await server.publish('readonly', { last: true })
    await waitFor(() => tabs.every((t) => t.received.length === 1), { message: 'every tab got the message after the refusals' })
    for (const t of tabs) expect(t.errors).toEqual([])
    expect(server.clients.size).toBe(1)
  })
})
