/**
 * The server side of epochs (docs/protocol.md "Epochs") and of the engine seam: two servers on
 * one engine are two nodes, and a client may resume on either.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { memoryEngine, type RealtimeEngine, type RealtimeServer, type RealtimeServerOptions } from '../../src/server'
import { connect, startServer, type TestClient } from './helpers'

const servers: RealtimeServer[] = []
const engines: RealtimeEngine[] = []
const clients: TestClient[] = []

async function serve(options: RealtimeServerOptions = {}): Promise<RealtimeServer> {
  const server = await startServer(options)
  servers.push(server)
  return server
}
async function client(server: RealtimeServer): Promise<TestClient> {
  const c = await connect(server.url)
  clients.push(c)
  return c
}
function shared(options: Parameters<typeof memoryEngine>[0] = {}): RealtimeEngine {
  const engine = memoryEngine(options)
  engines.push(engine)
  return engine
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
  await Promise.all(servers.splice(0).map((s) => s.close()))
  await Promise.all(engines.splice(0).map((e) => e.close()))
})

describe('epochs on the wire', () => {
  it('puts one epoch in subscribed, in stored messages, in replays and in acks', async () => {
    const server = await serve()
    const a = await client(server)
    const { epoch } = await a.subscribe('room')
    expect(epoch).toMatch(/^.{1,64}$/)
    expect(await a.publish('room', 'm1', 'hi')).toEqual({ type: 'ack', id: 'm1', seq: 1, epoch })
    expect(await a.waitType('message')).toMatchObject({ seq: 1, epoch })
    const b = await client(server)
    await b.subscribe('room', { since: 0, epoch })
    expect(b.of('message')).toEqual([expect.objectContaining({ seq: 1, epoch })])
    // Ephemeral messages have neither.
    a.send({ type: 'publish', topic: 'room', id: 'e1', data: 1, ephemeral: true })
    const ephemeral = await b.waitType('message', (f) => f.id === 'e1')
    expect(ephemeral.epoch).toBeUndefined()
    expect(ephemeral.seq).toBeUndefined()
  })

  it('replays within the same epoch, refuses to replay across epochs, and keeps the old behaviour without one', async () => {
    const server = await serve()
    for (let i = 1; i <= 5; i++) await server.publish('t', i, { id: `p${i}` })
    const { epoch } = await server.publish('t', 6, { id: 'p6' })
    const same = await client(server)
    expect(await same.subscribe('t', { since: 3, epoch })).toMatchObject({ seq: 6, epoch, recovered: true })
    expect(same.of('message').map((m) => m.seq)).toEqual([4, 5, 6])
    const other = await client(server)
    expect(await other.subscribe('t', { since: 3, epoch: 'not-this-one' })).toMatchObject({ seq: 6, epoch, recovered: false })
    expect(other.of('message')).toEqual([])
    const old = await client(server)
    expect(await old.subscribe('t', { since: 4 })).toMatchObject({ seq: 6, epoch, recovered: true })
    expect(old.of('message').map((m) => m.seq)).toEqual([5, 6])
  })

  it('gives a topic the engine lost a new epoch: the old position replays nothing', async () => {
    const server = await serve({ engine: shared({ maxTopics: 2 }) })
    const a = await client(server)
    await a.publish('lost', 'l1', 1)
    const { epoch, seq } = await a.publish('lost', 'l2', 2)
    // Two newer idle topics push it out of the engine.
    await a.publish('x', 'x1', 1)
    await a.publish('y', 'y1', 1)
    const b = await client(server)
    const subscribed = await b.subscribe('lost', { since: seq, epoch })
    expect(subscribed).toMatchObject({ seq: 0, recovered: false })
    expect(subscribed.epoch).not.toBe(epoch)
    expect(await b.publish('lost', 'l3', 3)).toMatchObject({ seq: 1, epoch: subscribed.epoch })
  })
})

describe('two servers on one engine', () => {
  it('fans out between nodes: every message once, in order, on both', async () => {
    const engine = shared()
    const [one, two] = [await serve({ engine }), await serve({ engine })]
    const [a, b] = [await client(one), await client(two)]
    await a.subscribe('room')
    await b.subscribe('room')
    for (let i = 1; i <= 10; i++) (i % 2 ? a : b).send({ type: 'publish', topic: 'room', id: `m${i}`, data: i })
    for (const c of [a, b]) await c.waitType('message', (f) => f.seq === 10)
    for (const c of [a, b]) expect(c.of('message').map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
  })

  it('resumes on the other node from (epoch, seq) with exactly what was missed', async () => {
    const engine = shared()
    const [one, two] = [await serve({ engine }), await serve({ engine })]
    const away = await client(one)
    const { epoch } = await away.subscribe('room')
    await away.close()
    const publisher = await client(one)
    for (let i = 1; i <= 7; i++) await publisher.publish('room', `m${i}`, i)
    const back = await client(two)
    expect(await back.subscribe('room', { since: 0, epoch })).toMatchObject({ seq: 7, epoch, recovered: true })
    expect(back.of('message').map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6, 7])
    // A publish resent to the other node gets the original ack.
    expect(await back.publish('room', 'm3', 3)).toEqual({ type: 'ack', id: 'm3', seq: 3, epoch })
  })

  it('shares presence and ephemeral messages between nodes', async () => {
    const engine = shared()
    const [one, two] = [await serve({ engine }), await serve({ engine })]
    const [a, b] = [await client(one), await client(two)]
    await a.subscribe('room')
    const subscribed = await b.subscribe('room')
    expect((subscribed.presence as Array<{ clientId: string }>).map((m) => m.clientId).sort()).toEqual([a.clientId, b.clientId].sort())
    expect(await a.waitType('presence', (f) => f.event === 'join')).toMatchObject({ member: { clientId: b.clientId } })
    b.send({ type: 'publish', topic: 'room', id: 't1', data: { typing: true }, ephemeral: true })
    expect(await a.waitType('message', (f) => f.id === 't1')).toMatchObject({ ephemeral: true, from: b.clientId })
    expect((await one.presence('room')).length).toBe(2)
    await b.close()
    expect(await a.waitType('presence', (f) => f.event === 'leave')).toMatchObject({ member: { clientId: b.clientId } })
    expect((await one.presence('room')).map((m) => m.clientId)).toEqual([a.clientId])
  })

  it('leaves an engine it did not make open for the other server', async () => {
    const engine = shared()
    const [one, two] = [await serve({ engine }), await serve({ engine })]
    await one.close()
    const c = await client(two)
    expect((await c.publish('still', 's1', 1)).seq).toBe(1)
  })
})
