import { afterEach, describe, expect, it } from 'vitest'
import { type RealtimeServer, type RealtimeServerOptions } from '../../src/server'
import { connect, startServer, type TestClient } from './helpers'

let server: RealtimeServer<unknown> | null = null
const clients: TestClient[] = []

async function setup(options: RealtimeServerOptions = {}) {
  server = await startServer(options)
  return server
}
async function client(): Promise<TestClient> {
  const c = await connect(server!.url)
  clients.push(c)
  return c
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
  await server?.close()
  server = null
})

describe('subscribe / publish / ack', () => {
  it('welcomes with protocol, client id and heartbeat', async () => {
    await setup({ heartbeatInterval: 1234 })
    const a = await client()
    const welcome = a.frames[0]
    expect(welcome).toMatchObject({ type: 'welcome', protocol: 'vue-realtime.v1', heartbeat: 1234 })
    expect(typeof welcome.clientId).toBe('string')
    expect(a.ws.protocol).toBe('vue-realtime.v1')
  })

  it('acks with the sequence and fans out to every subscriber, publisher included', async () => {
    await setup()
    const [a, b, c] = [await client(), await client(), await client()]
    expect(await a.subscribe('room:1')).toMatchObject({ seq: 0, recovered: true })
    await b.subscribe('room:1')
    const ack1 = await a.publish('room:1', 'm1', { text: 'hi' })
    const ack2 = await c.publish('room:1', 'm2', { text: '<b>yo</b>' })
    const epoch = ack1.epoch
    expect(typeof epoch).toBe('string')
    expect(ack1).toEqual({ type: 'ack', id: 'm1', seq: 1, epoch })
    expect(ack2).toEqual({ type: 'ack', id: 'm2', seq: 2, epoch })
    for (const sub of [a, b]) {
      await sub.waitType('message', (f) => f.seq === 2)
      const messages = sub.of('message', 'room:1')
      expect(messages.map((m) => m.seq)).toEqual([1, 2])
      expect(messages[0]).toMatchObject({ topic: 'room:1', id: 'm1', data: { text: 'hi' }, from: a.clientId })
      expect(typeof messages[0].ts).toBe('number')
      // Payloads travel as data, byte for byte.
      expect(messages[1].data).toEqual({ text: '<b>yo</b>' })
    }
    // c never subscribed.
    await c.roundTrip()
    expect(c.of('message')).toHaveLength(0)
    expect(server!.topics()).toEqual(['room:1'])
  })

  it('keeps sequences per topic', async () => {
    await setup()
    const a = await client()
    await a.subscribe('x')
    await a.subscribe('y')
    expect((await a.publish('x', '1', 1)).seq).toBe(1)
    expect((await a.publish('y', '2', 2)).seq).toBe(1)
    expect((await a.publish('x', '3', 3)).seq).toBe(2)
  })

  it('answers a duplicate id with the same ack and does not broadcast it again', async () => {
    await setup()
    const [a, b] = [await client(), await client()]
    await b.subscribe('t')
    await a.publish('t', 'dup', 1)
    a.send({ type: 'publish', topic: 't', id: 'dup', data: 'other' })
    a.send({ type: 'publish', topic: 't', id: 'next', data: 2 })
    await a.waitType('ack', (f) => f.id === 'next')
    const acks = a.of('ack').filter((f) => f.id === 'dup')
    const epoch = acks[0].epoch
    expect(acks).toEqual([
      { type: 'ack', id: 'dup', seq: 1, epoch },
      { type: 'ack', id: 'dup', seq: 1, epoch },
    ])
    await b.waitType('message', (f) => f.id === 'next')
    expect(b.of('message').map((m) => [m.id, m.seq])).toEqual([
      ['dup', 1],
      ['next', 2],
    ])
  })

  it('deduplicates ids resent from another connection (a reconnecting client)', async () => {
    await setup()
    const a = await client()
    const first = await a.publish('t', 'once', 1)
    await a.close()
    const again = await client()
    expect(await again.publish('t', 'once', 1)).toEqual(first)
  })

  it('broadcasts ephemeral messages without storing them or echoing them', async () => {
    await setup()
    const [a, b] = [await client(), await client()]
    await a.subscribe('typing')
    await b.subscribe('typing')
    a.send({ type: 'publish', topic: 'typing', id: 'e1', data: { typing: true }, ephemeral: true })
    expect(await a.waitType('ack', (f) => f.id === 'e1')).toEqual({ type: 'ack', id: 'e1' })
    const m = await b.waitType('message', (f) => f.id === 'e1')
    expect(m.seq).toBeUndefined()
    expect(m.ephemeral).toBe(true)
    expect(a.of('message')).toHaveLength(0)
    expect((await a.publish('typing', 's1', 'stored')).seq).toBe(1)
  })

  it('unsubscribes', async () => {
    await setup()
    const [a, b] = [await client(), await client()]
    await a.subscribe('t')
    a.send({ type: 'unsubscribe', topic: 't' })
    await a.waitType('unsubscribed', (f) => f.topic === 't')
    await b.publish('t', 'after', 1)
    await a.roundTrip()
    expect(a.of('message')).toHaveLength(0)
  })

  it('limits topics per connection', async () => {
    await setup({ maxTopicsPerConnection: 2 })
    const a = await client()
    await a.subscribe('a')
    await a.subscribe('b')
    a.send({ type: 'subscribe', topic: 'c' })
    expect(await a.waitType('error')).toMatchObject({ code: 'too_many_topics', topic: 'c', frame: 'subscribe' })
    // Re-subscribing a held topic is not a new one.
    await a.subscribe('a', { since: 0 })
  })

  it('refuses what authorize refuses', async () => {
    await setup({ authorize: (_user, topic, action) => !(topic.startsWith('admin') && action === 'publish') })
    const a = await client()
    await a.subscribe('admin:log')
    a.send({ type: 'publish', topic: 'admin:log', id: 'x', data: 1 })
    expect(await a.waitType('error')).toMatchObject({ code: 'forbidden', ref: 'x', topic: 'admin:log' })
  })

  it('publishes from the server', async () => {
    await setup()
    const a = await client()
    await a.subscribe('news')
    const message = await server!.publish('news', { headline: 'hello' })
    expect(message.seq).toBe(1)
    expect(await a.waitType('message')).toMatchObject({ topic: 'news', seq: 1, from: 'server', data: { headline: 'hello' } })
    await expect(server!.publish('bad topic!', 1)).rejects.toThrow(/must match/)
  })
})

describe('replay', () => {
  async function seed(topic: string, count: number) {
    for (let i = 1; i <= count; i++) await server!.publish(topic, { n: i }, { id: `seed-${i}` })
  }

  it('replays everything after `since` before `subscribed`', async () => {
    await setup()
    await seed('r', 5)
    const a = await client()
    const subscribed = await a.subscribe('r', { since: 2 })
    expect(subscribed).toMatchObject({ seq: 5, recovered: true })
    const frames = a.frames.filter((f) => f.type === 'message' || f.type === 'subscribed')
    expect(frames.map((f) => (f.type === 'message' ? f.seq : 'end'))).toEqual([3, 4, 5, 'end'])
  })

  it('replays nothing without since, the last n with history', async () => {
    await setup()
    await seed('r', 5)
    const a = await client()
    await a.subscribe('r')
    expect(a.of('message')).toHaveLength(0)
    await a.subscribe('r', { history: 2 })
    expect(a.of('message').map((m) => m.seq)).toEqual([4, 5])
  })

  it('says recovered: false when the gap is older than the history, and replays what it has', async () => {
    await setup({ historyLimit: 3 })
    await seed('r', 10)
    const a = await client()
    expect(await a.subscribe('r', { since: 2 })).toMatchObject({ seq: 10, recovered: false })
    expect(a.of('message').map((m) => m.seq)).toEqual([8, 9, 10])
    const b = await client()
    expect(await b.subscribe('r', { since: 7 })).toMatchObject({ seq: 10, recovered: true })
  })

  it('says recovered: false when the gap exceeds replayLimit', async () => {
    await setup({ replayLimit: 2 })
    await seed('r', 6)
    const a = await client()
    expect(await a.subscribe('r', { since: 1 })).toMatchObject({ seq: 6, recovered: false })
    expect(a.of('message').map((m) => m.seq)).toEqual([5, 6])
  })

  it('says recovered: false when the client saw more than the server has', async () => {
    await setup()
    await seed('r', 1)
    const a = await client()
    expect(await a.subscribe('r', { since: 50 })).toMatchObject({ seq: 1, recovered: false })
  })

  it('misses nothing and doubles nothing when publishes race a subscribe', async () => {
    await setup()
    const pub = await client()
    const ids = Array.from({ length: 40 }, (_, i) => `p${i}`)
    for (const id of ids.slice(0, 20)) pub.send({ type: 'publish', topic: 'race', id, data: id })
    const sub = await client()
    sub.send({ type: 'subscribe', topic: 'race', since: 0 })
    for (const id of ids.slice(20)) pub.send({ type: 'publish', topic: 'race', id, data: id })
    await sub.waitType('message', (f) => f.seq === 40)
    expect(sub.of('message').map((m) => m.seq)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1))
  })
})
