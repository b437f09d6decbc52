/**
 * What a client hears at each cap (issue 13 "bounded memory"), and how the server treats a
 * failing engine (bug 26) and an unwatched topic (bug 25's reloads): against the real server.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { memoryEngine, type RealtimeEngine, type RealtimeServer, type RealtimeServerOptions } from '../../src/server'
import { connect, startServer, type TestClient } from './helpers'

let server: RealtimeServer | null = null
const clients: TestClient[] = []
const engines: RealtimeEngine[] = []

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
  await Promise.all(engines.splice(0).map((e) => e.close()))
})

/** A memory engine whose methods can be made to fail or counted. */
function instrumented(options: Parameters<typeof memoryEngine>[0] = {}) {
  const engine = memoryEngine(options)
  engines.push(engine)
  const calls = { history: 0, publish: 0 }
  let failHistory = 0
  const wrapped: RealtimeEngine = {
    name: engine.name,
    ready: () => engine.ready(),
    publish: (m) => (calls.publish++, engine.publish(m)),
    broadcast: (m) => engine.broadcast(m),
    history: async (topic, query) => {
      calls.history++
      if (failHistory > 0) {
        failHistory--
        throw new Error('disk on fire')
      }
      return engine.history(topic, query)
    },
    exists: (topic) => engine.exists(topic),
    subscribe: (topic, listener) => engine.subscribe(topic, listener),
    announce: (topic, event, member) => engine.announce(topic, event, member),
    members: (topic) => engine.members(topic),
    topics: () => engine.topics(),
    close: () => engine.close(),
  }
  return { engine: wrapped, calls, failNextHistory: () => failHistory++ }
}

describe('new topics per connection', () => {
  it('refuses the topics past the limit with too_many_new_topics, and still serves existing ones', async () => {
    await setup({ newTopicLimit: { topics: 3, perMs: 60_000 } })
    await server!.publish('existing', 'made by the server')
    const a = await client()
    for (const topic of ['n1', 'n2', 'n3']) await a.publish(topic, `${topic}-1`, 1)
    a.send({ type: 'publish', topic: 'n4', id: 'over', data: 1 })
    expect(await a.waitType('error', (f) => f.ref === 'over')).toMatchObject({
      code: 'too_many_new_topics',
      topic: 'n4',
      frame: 'publish',
      message: expect.stringMatching(/more than 3 new topics in 60000 ms/),
    })
    a.send({ type: 'subscribe', topic: 'n5' })
    expect(await a.waitType('error', (f) => f.topic === 'n5')).toMatchObject({ code: 'too_many_new_topics', frame: 'subscribe' })
    // Topics that exist (here or in the engine) are not new.
    expect((await a.publish('n1', 'n1-2', 2)).seq).toBe(2)
    expect((await a.publish('existing', 'e2', 2)).seq).toBe(2)
    expect(await a.subscribe('n2')).toMatchObject({ seq: 1 })
    expect(a.ws.readyState).toBe(a.ws.OPEN)
    // The budget is per connection.
    const b = await client()
    expect((await b.publish('n4', 'b-1', 1)).seq).toBe(1)
  })
})

describe('engine capacity', () => {
  it('answers server_full when every held topic has subscribers, and serves again once one is free', async () => {
    const { engine } = instrumented({ maxTopics: 2 })
    await setup({ engine })
    const [a, b] = [await client(), await client()]
    await a.subscribe('x')
    await b.subscribe('y')
    a.send({ type: 'publish', topic: 'z', id: 'full', data: 1 })
    expect(await a.waitType('error', (f) => f.ref === 'full')).toMatchObject({ code: 'server_full', topic: 'z', message: expect.stringMatching(/retry later/) })
    a.send({ type: 'subscribe', topic: 'z' })
    expect(await a.waitType('error', (f) => f.frame === 'subscribe')).toMatchObject({ code: 'server_full', topic: 'z' })
    expect([...server!.clients.values()].find((c) => c.id === a.clientId)?.topics).toEqual(new Set(['x']))
    b.send({ type: 'unsubscribe', topic: 'y' })
    await b.waitType('unsubscribed')
    expect((await a.publish('z', 'fits', 1)).seq).toBe(1)
  })
})

describe('bug 26: a subscribe that fails in the engine', () => {
  it('answers internal and frees its topic slot', async () => {
    const { engine, failNextHistory } = instrumented()
    await setup({ engine, maxTopicsPerConnection: 1 })
    const errors: Error[] = []
    server!.on('error', (e) => errors.push(e))
    const a = await client()
    failNextHistory()
    a.send({ type: 'subscribe', topic: 'a' })
    expect(await a.waitType('error')).toMatchObject({ code: 'internal', topic: 'a', frame: 'subscribe' })
    expect(await a.subscribe('b')).toMatchObject({ type: 'subscribed', topic: 'b' })
    expect(a.of('error')).toHaveLength(1)
    expect(errors[0]?.message).toMatch(/disk on fire/)
  })
})

describe('bug 25: publishing to an unwatched topic', () => {
  it('reads nothing back from the engine: dedupe and numbering are the engine\'s', async () => {
    const { engine, calls } = instrumented()
    await setup({ engine })
    const a = await client()
    for (let i = 1; i <= 20; i++) expect((await a.publish('unwatched', `u${i}`, i)).seq).toBe(i)
    expect(await a.publish('unwatched', 'u1', 1)).toMatchObject({ seq: 1 })
    expect(calls).toEqual({ history: 0, publish: 21 })
  })
})
