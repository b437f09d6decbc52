/**
 * The Redis engine against a real redis-server (test/support/redis.ts): the shared engine
 * conformance suite with two nodes as two engines on one Redis, and what only Redis has.
 */
import { createServer } from 'node:net'
import { createClient } from 'redis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { EngineError, redisEngine, type EngineMessage, type RealtimeEngine, type RedisEngineClient, type RedisEngineSettings } from '../../src/server'
import { createFaultProxy } from '../support/proxy'
import { startRedis, type RedisServer } from '../support/redis'
import { waitFor } from '../support/wait'
import { draft, engineConformance } from './engine-conformance'

/** A loopback port nobody listens on. */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number }
      probe.close(() => resolve(port))
    })
  })
}

let redis: RedisServer
let admin: ReturnType<typeof createClient>
let run = 0
let prefix = ''

beforeAll(async () => {
  redis = await startRedis()
  admin = createClient({ url: redis.url })
  admin.on('error', () => {})
  await admin.connect()
})

afterAll(async () => {
  admin?.destroy()
  await redis?.stop()
})

engineConformance('redis', {
  async create({ historyLimit, dedupeWindow }) {
    // A fresh prefix per test: one Redis, no test sees another's keys.
    prefix = `conformance${run++}:`
    const nodes: RealtimeEngine[] = []
    const node = () => {
      const engine = redisEngine({ url: redis.url, prefix, historyLimit, dedupeWindow })
      nodes.push(engine)
      return engine
    }
    return {
      engine: node(),
      async node() {
        const engine = node()
        await engine.ready()
        return engine
      },
      async close() {
        await Promise.all(nodes.map((engine) => engine.close()))
      },
    }
  },
  // As a Redis that lost the topic: every key of it is gone.
  async lose(_nodes, topic) {
    const keys = await admin.keys(`${prefix}{${topic}}*`)
    if (keys.length) await admin.del(keys)
  },
})

describe('redisEngine on a real Redis', () => {
  const engines: RealtimeEngine[] = []
  function engine(options: Partial<RedisEngineSettings> = {}): RealtimeEngine {
    const made = redisEngine({ url: redis.url, prefix: `own${run++}:`, ...options })
    engines.push(made)
    return made
  }
  afterEach(async () => {
    await Promise.all(engines.splice(0).map((e) => e.close()))
  })

  async function listen(node: RealtimeEngine, topic: string) {
    const seen: EngineMessage[] = []
    const unsubscribe = await node.subscribe(topic, (event) => event.type === 'message' && seen.push(event.message))
    return { seen, unsubscribe }
  }
  const seqs = (messages: EngineMessage[]) => messages.map((m) => m.seq)
  const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i)

  it('runs its scripts by SHA and sends them whole only after SCRIPT FLUSH (NOSCRIPT)', async () => {
    const node = engine()
    expect((await node.publish(draft('s'))).seq).toBe(1)
    const calls = async (command: string) => Number((await admin.info('commandstats')).match(new RegExp(`cmdstat_${command}:calls=(\\d+)`))?.[1] ?? 0)
    await admin.configResetStat()
    expect((await node.publish(draft('s'))).seq).toBe(2)
    expect({ evalsha: await calls('evalsha'), eval: await calls('eval') }).toEqual({ evalsha: 1, eval: 0 })
    await admin.scriptFlush()
    expect((await node.publish(draft('s'))).seq).toBe(3)
    expect((await node.publish(draft('s'))).seq).toBe(4)
    expect(await calls('eval')).toBe(1)
    expect((await node.history('s', { since: 0, limit: 10 })).messages.map((m) => m.seq)).toEqual([1, 2, 3, 4])
  })

  it('fills a lost channel message from the stream before delivering the next one', async () => {
    const node = engine({ prefix: 'lost:' })
    const watch = await listen(node, 'room')
    await node.publish(draft('room'))
    await waitFor(() => watch.seen.length === 1)
    // Seq 2 stored as publish.lua would, but its PUBLISH never reaches anyone.
    const epoch = watch.seen[0].epoch
    await admin.hIncrBy('lost:{room}:meta', 's', 1)
    await admin.xAdd('lost:{room}:log', '2-0', { i: 'slost', h: JSON.stringify({ id: 'lost', from: 'x', ts: 1 }), d: '"gone?"' })
    await node.publish(draft('room'))
    await waitFor(() => watch.seen.length === 3, { message: 'three deliveries' })
    expect(seqs(watch.seen)).toEqual([1, 2, 3])
    expect(watch.seen[1]).toMatchObject({ id: 'lost', data: '"gone?"', epoch })
  })

  it('catches up after CLIENT KILL TYPE pubsub: a message stored while the pub/sub link was down arrives, with no later message', async () => {
    const node = engine({ prefix: 'kill:' })
    const watch = await listen(node, 'k')
    for (let i = 0; i < 5; i++) await node.publish(draft('k'))
    await waitFor(() => watch.seen.length === 5)
    // One transaction: the pub/sub connection is cut, then seq 6 is stored; its PUBLISH reaches nobody.
    await admin
      .multi()
      .addCommand(['CLIENT', 'KILL', 'TYPE', 'pubsub'])
      .hIncrBy('kill:{k}:meta', 's', 1)
      .xAdd('kill:{k}:log', '6-0', { i: 'ssix', h: JSON.stringify({ id: 'six', from: 'x', ts: 1 }), d: '6' })
      .publish('kill:{k}', 'lost on purpose')
      .exec()
    await waitFor(() => watch.seen.length === 6, { message: 'seq 6 read from the stream after the re-subscribe', timeout: 10_000 })
    for (let i = 0; i < 5; i++) await node.publish(draft('k'))
    await waitFor(() => watch.seen.length === 11)
    expect(seqs(watch.seen)).toEqual(range(1, 11))
    expect(watch.seen[5]).toMatchObject({ id: 'six', data: '6' })
  })

  it("removes the members of a node whose liveness key expired (a leave each), and the node restores them when it is back (a join each)", async () => {
    // Node B reaches Redis through a proxy: holding B's commands back is B pausing past its TTL.
    const proxy = await createFaultProxy({ target: { port: redis.port } })
    const options = { prefix: 'live:', nodeTtlMs: 300 }
    const a = engine(options)
    const b = redisEngine({ url: `redis://127.0.0.1:${proxy.port}`, ...options })
    engines.push(b)
    await Promise.all([a.ready(), b.ready()])
    const events: string[] = []
    await a.subscribe('room', (e) => e.type === 'presence' && events.push(`${e.event}:${e.member.clientId}`))
    await b.announce('room', 'join', { clientId: 'bob', online: true, lastSeen: 1 })
    await waitFor(() => events.includes('join:bob'))
    proxy.blackhole('up')
    await waitFor(() => events.includes('leave:bob'), { message: "the leave of the paused node's member" })
    expect(await a.members('room')).toEqual([])
    // B's held renewals arrive: it is no longer registered, so it joins its members again.
    proxy.resume()
    await waitFor(() => events.filter((e) => e === 'join:bob').length === 2, { message: 'bob joined again' })
    expect((await a.members('room')).map((m) => m.clientId)).toEqual(['bob'])
    await b.close()
    await proxy.close()
  })

  it('bounds what it keeps: the stream is capped, ids beyond the window are deleted, and every key it writes per message has a TTL', async () => {
    const node = engine({ prefix: 'bound:', historyLimit: 5, dedupeWindow: 8, dedupeTtlMs: 60_000, topicTtlMs: 3_600_000 })
    for (let i = 0; i < 30; i++) await node.publish(draft('b'))
    expect(await admin.xLen('bound:{b}:log')).toBe(8)
    const ids = await admin.keys('bound:{b}:id:*')
    expect(ids).toHaveLength(8)
    for (const key of [...ids, 'bound:{b}:meta', 'bound:{b}:log']) expect(await admin.pTTL(key)).toBeGreaterThan(0)
    expect((await node.history('b', { since: 0, limit: 100 })).messages.map((m) => m.seq)).toEqual(range(26, 30))
    await node.broadcast(draft('b', { id: 'typing' }))
    expect(await admin.pTTL('bound:{b}:eph:styping')).toBeGreaterThan(0)
  })

  it('forgets an idle topic after topicTtlMs: it comes back with a new epoch', async () => {
    const node = engine({ prefix: 'idle:', topicTtlMs: 200 })
    const first = await node.publish(draft('i'))
    await waitFor(async () => !(await node.exists('i')), { message: 'the idle topic expired' })
    const again = await node.publish(draft('i'))
    expect(again.seq).toBe(1)
    expect(again.epoch).not.toBe(first.epoch)
  })

  it('answers an out-of-memory Redis with server_full, and works again once there is room', async () => {
    const node = engine({ prefix: 'oom:' })
    await node.publish(draft('o'))
    await admin.configSet('maxmemory', '1')
    try {
      const refused = node.publish(draft('o', { data: JSON.stringify('x'.repeat(1000)) }))
      await expect(refused).rejects.toBeInstanceOf(EngineError)
      await expect(refused).rejects.toMatchObject({ code: 'server_full', message: expect.stringMatching(/out of memory.*retry later/) })
    } finally {
      await admin.configSet('maxmemory', '0')
    }
    expect((await node.publish(draft('o'))).seq).toBe(2)
  })

  it('uses a node-redis client it is given, and leaves it open on close', async () => {
    const client = createClient({ url: redis.url })
    client.on('error', () => {})
    const node = redisEngine({ client, prefix: 'given:' })
    await node.ready()
    expect(client.isReady).toBe(true)
    expect((await node.publish(draft('g'))).seq).toBe(1)
    await node.close()
    expect(client.isReady).toBe(true)
    expect(await client.hGet('given:{g}:meta', 's')).toBe('1')
    client.destroy()
  })

  it('fails a test that needs Redis, with the install command, when redis-server is missing', async () => {
    await expect(startRedis({ binary: 'redis-server-that-is-not-installed' })).rejects.toThrow(/not installed.*apt-get install redis-server/)
  })

  it('names a command timeout (node-redis gives up on a command that waited too long to be written)', async () => {
    // node-redis' own error: an empty message, only its class says what happened. A stand-in client
    // throws it, since a real one only does so when its event loop or socket stalls for seconds.
    class TimeoutError extends Error {}
    const subscriber = { isOpen: true, isReady: true, connect: async () => {}, subscribe: async () => {}, unsubscribe: async () => {}, on() {}, off() {}, destroy() {} }
    const client = {
      ...subscriber,
      duplicate: () => ({ ...subscriber, duplicate: () => client, sendCommand: async () => null, close: async () => {} }),
      close: async () => {},
      async sendCommand(args: ReadonlyArray<string>) {
        if (args[0] === 'EVALSHA' && args[3]?.endsWith(':meta')) throw new TimeoutError()
        return args[0] === 'EVALSHA' ? 0 : 'OK'
      },
    } as unknown as RedisEngineClient
    const node = redisEngine({ client, prefix: 'fake:' })
    await node.ready()
    await expect(node.publish(draft('p'))).rejects.toThrow(/Redis \(the given client\) did not answer the publish script within the client's command timeout \(TimeoutError\); Redis or this server is overloaded, retry later/)
    await node.close()
  })

  it('validates its options', () => {
    expect(() => redisEngine({} as never)).toThrow(/exactly one of "url".*or "client"/)
    expect(() => redisEngine({ url: redis.url, client: createClient() } as never)).toThrow(/exactly one of/)
    expect(() => redisEngine({ url: redis.url, historyLimit: -1 })).toThrow(/historyLimit.*integer >= 0/)
    expect(() => redisEngine({ url: redis.url, nodeTtlMs: 1.5 })).toThrow(/nodeTtlMs/)
  })

  it('fails ready() with the cause and the fix when Redis cannot be reached, without the password', async () => {
    const port = await freePort()
    const node = redisEngine({ url: `redis://user:hunter2@127.0.0.1:${port}`, connectTimeout: 500 })
    const failed = node.ready()
    await expect(failed).rejects.toThrow(new RegExp(`could not reach Redis at redis://127.0.0.1:${port}.*within 500 ms \\(connect ECONNREFUSED.*start Redis or fix the url`))
    await expect(failed).rejects.not.toThrow(/hunter2/)
    await node.close()
  })

  const member = (clientId: string) => ({ clientId, online: true, lastSeen: 1 })
  /** Node A reaches Redis through a fault proxy, node B directly; `events` are the presence events `listener`'s node tells of "room". */
  async function behindProxy(prefix: string, listener: 'a' | 'b') {
    const proxy = await createFaultProxy({ target: { port: redis.port } })
    const a = redisEngine({ url: `redis://127.0.0.1:${proxy.port}`, prefix })
    engines.push(a)
    const b = engine({ prefix })
    await Promise.all([a.ready(), b.ready()])
    const events: string[] = []
    await (listener === 'a' ? a : b).subscribe('room', (e) => e.type === 'presence' && events.push(`${e.event}:${e.member.clientId}`))
    return { proxy, a, b, events }
  }

  it('tells its listeners the presence changes it missed while its pub/sub connection was away (a join and a leave), once it is back', async () => {
    // Found by the channel model: presence events are published once; a node whose pub/sub
    // connection was down (a Redis restart, a network blip, CLIENT KILL) missed them for good,
    // so its clients listed a member that had left, or missed one that joined.
    const { proxy, a, b, events } = await behindProxy('missed:', 'a')
    await b.announce('room', 'join', member('bob'))
    await waitFor(() => events.includes('join:bob'))
    // A loses Redis (both its connections) and stays away while B's members change.
    await proxy.refuse(true)
    proxy.reset()
    await b.announce('room', 'leave', member('bob'))
    await b.announce('room', 'join', member('carol'))
    expect(events).toEqual(['join:bob'])
    await proxy.refuse(false)
    await waitFor(() => events.includes('leave:bob') && events.includes('join:carol'), {
      message: () => `the missed leave and join to be told (told: ${events.join(', ')})`,
      timeout: 10_000,
    })
    expect(events.filter((e) => e === 'join:carol')).toHaveLength(1)
    await proxy.close()
  })

  it('a leave it could not record while Redis was away is recorded once Redis is back (no member left listed for good)', async () => {
    const { proxy, a, b, events } = await behindProxy('ghost:', 'b')
    const dave = member('dave')
    await a.announce('room', 'join', dave)
    await waitFor(() => events.includes('join:dave'))
    await proxy.refuse(true)
    proxy.reset()
    await expect(a.announce('room', 'leave', dave)).rejects.toThrow(/redisEngine: Redis at .* is unreachable/)
    await proxy.refuse(false)
    await waitFor(() => events.includes('leave:dave'), { message: "dave's leave, once A reaches Redis again", timeout: 10_000 })
    expect(await b.members('room')).toEqual([])
    await proxy.close()
  })

  // Last: it restarts the shared Redis.
  it('rejects while Redis is away with an error naming it, and after a restart follows the new epoch', async () => {
    const publisher = engine({ prefix: 'restart:' })
    const subscriber = engine({ prefix: 'restart:' })
    const watch = await listen(subscriber, 'r')
    const before = await publisher.publish(draft('r'))
    await publisher.publish(draft('r'))
    await waitFor(() => watch.seen.length === 2)
    redis.process!.kill('SIGKILL')
    await waitFor(
      async () => {
        try {
          await publisher.publish(draft('r'))
          return false
        } catch (error) {
          return /redisEngine: Redis at redis:\/\/127\.0\.0\.1:\d+\/? is unreachable.*until it is back/.test((error as Error).message)
        }
      },
      { message: 'a publish rejected as unreachable' },
    )
    await redis.restart()
    const after = await waitFor(() => publisher.publish(draft('r')).catch(() => null), { message: 'a publish after the restart', timeout: 15_000 })
    expect(after.seq).toBe(1)
    expect(after.epoch).not.toBe(before.epoch)
    await publisher.publish(draft('r'))
    await waitFor(() => watch.seen.some((m) => m.epoch === after.epoch && m.seq === 2), { message: 'the new epoch delivered', timeout: 15_000 })
    expect(watch.seen.map((m) => [m.epoch === before.epoch ? 'old' : 'new', m.seq])).toEqual([
      ['old', 1],
      ['old', 2],
      ['new', 1],
      ['new', 2],
    ])
  })

  // Restarts the shared Redis too.
  it('after Redis lost its data, a node lists its own members at once, and every node registers again (its members with it) as soon as Redis is back', async () => {
    // Found by the channel model: a client that joined in the window before its node's next
    // heartbeat was left out of its own `subscribed` presence for good (a client gets no
    // presence event of itself), and every member of a node stayed hidden until that heartbeat.
    const options = { prefix: 'lost:', nodeTtlMs: 60_000 } // heartbeats every 20 s: longer than every wait below
    const a = engine(options)
    const b = engine(options)
    await Promise.all([a.ready(), b.ready()])
    const ids = async (node: RealtimeEngine) => (await node.members('room')).map((m) => m.clientId).sort()
    await b.announce('room', 'join', member('bob'))
    expect(await ids(a)).toEqual(['bob'])
    await redis.restart()
    await waitFor(() => a.announce('room', 'join', member('ann')).then(() => true, () => false), { message: 'a join once Redis is back', timeout: 15_000 })
    expect(await ids(a)).toContain('ann')
    await waitFor(async () => JSON.stringify(await ids(a)) === JSON.stringify(['ann', 'bob']), {
      message: "B's member back without waiting for B's next heartbeat",
      timeout: 10_000,
    })
  })
})
