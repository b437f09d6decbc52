/**
 * Three server processes on one real Redis (issue 9): clients on different nodes, nodes
 * SIGKILLed and restarted, Redis restarted, pub/sub connections killed. Every wait is bounded
 * and event-driven.
 */
import { createClient } from 'redis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createRig } from '../channel/helpers'
import { createFaultProxy, type FaultProxy } from '../support/proxy'
import { startRedis, type RedisServer } from '../support/redis'
import { waitFor } from '../support/wait'
import { startNode, type ClusterNode, type NodeOptions } from './cluster'
import { connect, type Frame, type TestClient } from './helpers'

/** Generous: a node notices a restarted Redis within its reconnect backoff; CI machines are slow. */
const LONG = 20_000

let redis: RedisServer
let admin: ReturnType<typeof createClient>
let run = 0
const nodes: ClusterNode[] = []
const clients: TestClient[] = []
const proxies: FaultProxy[] = []

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

const rig = createRig()

afterEach(async () => {
  await rig.cleanup()
  await Promise.all(clients.splice(0).map((c) => c.close()))
  await Promise.all(nodes.splice(0).map((n) => n.close()))
  await Promise.all(proxies.splice(0).map((p) => p.close()))
})

/** `count` nodes with a fresh prefix (one test never sees another's topics). */
async function cluster(count: number, options: Partial<NodeOptions> = {}): Promise<ClusterNode[]> {
  const prefix = `cluster${run++}:`
  const made = await Promise.all(Array.from({ length: count }, () => node({ prefix, ...options })))
  return made
}

async function node(options: Partial<NodeOptions> & { prefix: string }): Promise<ClusterNode> {
  const made = await startNode({ redisUrl: redis.url, ...options })
  nodes.push(made)
  return made
}

async function client(on: ClusterNode): Promise<TestClient> {
  const c = await connect(on.url)
  clients.push(c)
  return c
}

const range = (from: number, to: number) => Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i)
const messages = (c: TestClient, topic: string) => c.of('message', topic).filter((f) => f.seq !== undefined)
const seqs = (frames: Frame[]) => frames.map((f) => f.seq)
/** Reports of an engine that delivered a hole: must never happen. */
const holes = (n: ClusterNode) => n.errors.filter((e) => /delivered seq/.test(e))

describe('three server processes on one Redis', () => {
  it('delivers every message once, in order, with contiguous seqs, to clients on every node', async () => {
    const trio = await cluster(3)
    const subscribers = await Promise.all([0, 1, 2, 0, 1, 2].map((i) => client(trio[i])))
    for (const s of subscribers) await s.subscribe('all')
    const publishers = await Promise.all(trio.map((n) => client(n)))
    const PER = 100
    for (let i = 0; i < PER; i++) {
      for (const [k, p] of publishers.entries()) p.send({ type: 'publish', topic: 'all', id: `p${k}-${i}`, data: { k, i } })
    }
    await Promise.all(publishers.map((p, k) => waitFor(() => p.of('ack').length === PER, { message: `publisher ${k}: ${PER} acks`, timeout: LONG })))
    const total = PER * publishers.length
    for (const [i, s] of subscribers.entries()) {
      await waitFor(() => messages(s, 'all').length >= total, { message: `subscriber ${i}: ${total} messages`, timeout: LONG })
      const got = messages(s, 'all')
      expect(seqs(got)).toEqual(range(1, total))
      expect(new Set(got.map((f) => f.id)).size).toBe(total)
      expect(new Set(got.map((f) => f.epoch)).size).toBe(1)
    }
    // Each publisher's messages were numbered in the order it sent them, and its acks say so.
    for (const [k, p] of publishers.entries()) {
      const acked = p.of('ack').map((a) => [Number(String(a.id).split('-')[1]), a.seq as number])
      const bySend = [...acked].sort((a, b) => a[0] - b[0]).map(([, seq]) => seq)
      expect(bySend, `publisher ${k}`).toEqual([...bySend].sort((a, b) => a - b))
    }
    for (const n of trio) expect(n.errors).toEqual([])
  })

  it('resumes on ANOTHER node: exactly the K missed with recovered true; K above the history gives recovered false', async () => {
    const HISTORY = 50
    const trio = await cluster(3, { historyLimit: HISTORY })
    const publisher = await client(trio[1])
    for (let i = 1; i <= 5; i++) await publisher.publish('r', `a${i}`, i)
    const away = await client(trio[0])
    const first = await away.subscribe('r', { history: 5 })
    expect(first).toMatchObject({ seq: 5, recovered: true })
    const epoch = first.epoch as string
    await away.close()

    const K = 20
    for (let i = 1; i <= K; i++) await publisher.publish('r', `b${i}`, i)
    const back = await client(trio[2])
    expect(await back.subscribe('r', { since: 5, epoch })).toMatchObject({ seq: 5 + K, epoch, recovered: true })
    expect(seqs(messages(back, 'r'))).toEqual(range(6, 5 + K))
    await back.close()

    const TOO_MANY = HISTORY + 10
    for (let i = 1; i <= TOO_MANY; i++) await publisher.publish('r', `c${i}`, i)
    const late = await client(trio[0])
    const head = 5 + K + TOO_MANY
    expect(await late.subscribe('r', { since: 5 + K, epoch })).toMatchObject({ seq: head, epoch, recovered: false })
    // What the history still holds is replayed; the client knows it is not everything.
    expect(seqs(messages(late, 'r'))).toEqual(range(head - HISTORY + 1, head))
    for (const n of trio) expect(n.errors).toEqual([])
  })

  it('a publisher whose node was SIGKILLed holding unacked publishes resends them to another node and gets the original seqs, with no duplicate in the stream', async () => {
    const prefix = `cluster${run++}:`
    // Node X talks to Redis through a proxy that can hold Redis' answers back: X's publishes are stored, X never hears so.
    const proxy = await createFaultProxy({ target: { port: redis.port } })
    proxies.push(proxy)
    const x = await node({ prefix, redisUrl: `redis://127.0.0.1:${proxy.port}` })
    const [y, z] = await Promise.all([node({ prefix }), node({ prefix })])
    const watcher = await client(z)
    await watcher.subscribe('t')
    const publisher = await client(x)
    expect(await publisher.publish('t', 'warm-up', 0)).toMatchObject({ seq: 1 })

    proxy.blackhole('down')
    const N = 10
    for (let i = 1; i <= N; i++) publisher.send({ type: 'publish', topic: 't', id: `m${i}`, data: i })
    // Stored (the watcher on node Z got them), never acked to the publisher.
    await waitFor(() => messages(watcher, 't').length === N + 1, { message: 'the publishes stored and delivered elsewhere', timeout: LONG })
    expect(publisher.of('ack')).toHaveLength(1)
    await x.kill('SIGKILL')
    expect((await publisher.closed).code).toBe(1006)

    // The publisher comes back on node Y and resends everything it holds unacked.
    const again = await client(y)
    for (let i = 1; i <= N; i++) again.send({ type: 'publish', topic: 't', id: `m${i}`, data: i })
    await waitFor(() => again.of('ack').length === N, { message: 'every resend acked', timeout: LONG })
    expect(again.of('ack').map((a) => [a.id, a.seq])).toEqual(range(1, N).map((i) => [`m${i}`, i + 1]))
    expect(await again.publish('t', 'after', 'after')).toMatchObject({ seq: N + 2 })

    const stream = (await admin.xRange(`${prefix}{t}:log`, '-', '+')) ?? []
    expect(stream.map((e) => e.id)).toEqual(range(1, N + 2).map((s) => `${s}-0`))
    expect(new Set(stream.map((e) => e.message.i)).size).toBe(N + 2)
    await waitFor(() => messages(watcher, 't').length === N + 2)
    expect(seqs(messages(watcher, 't'))).toEqual(range(1, N + 2))
    for (const n of [y, z]) expect(n.errors).toEqual([])
  })

  it('restart Redis mid-stream: every client sees the new epoch (the channel client reports the gap); resuming from the old one is recovered false; no node crashes', async () => {
    const trio = await cluster(3)
    const subscribers = await Promise.all(trio.map((n) => client(n)))
    // The library's own protocol client on every node too: what useChannel turns into recovered false and onGap.
    const channels = trio.map((n) => {
      const c = rig.client(n.url)
      const watcher = c.watch('live')
      c.open()
      return watcher
    })
    const publisher = await client(trio[0])
    for (const s of subscribers) await s.subscribe('live')
    for (const w of channels) await waitFor(() => w.joins.length === 1, { message: 'the channel client joined', timeout: LONG })
    for (let i = 1; i <= 5; i++) await publisher.publish('live', `before${i}`, i)
    for (const s of subscribers) await waitFor(() => messages(s, 'live').length === 5)
    for (const w of channels) await waitFor(() => w.messages.length === 5)
    const oldEpoch = messages(subscribers[0], 'live')[0].epoch

    await redis.restart()
    // Publishes fail (an error frame, never a crash) until the nodes are reconnected.
    let attempt = 0
    const firstAfter = await waitFor(
      async () => {
        const id = `after-${attempt++}`
        const from = publisher.frames.length
        publisher.send({ type: 'publish', topic: 'live', id, data: 'after' })
        const answer = await publisher.waitFor((f) => (f.type === 'ack' && f.id === id) || (f.type === 'error' && f.ref === id), 'an answer', from, LONG)
        if (answer.type === 'error') expect(answer.code).toBe('internal')
        return answer.type === 'ack' ? answer : null
      },
      { message: 'a publish acked after the restart', timeout: LONG, interval: 50 },
    )
    expect(firstAfter).toMatchObject({ seq: 1 })
    const newEpoch = firstAfter.epoch
    expect(newEpoch).not.toBe(oldEpoch)
    for (let i = 2; i <= 5; i++) await publisher.publish('live', `more${i}`, i)

    for (const [i, s] of subscribers.entries()) {
      await waitFor(() => messages(s, 'live').filter((f) => f.epoch === newEpoch).length === 5, { message: `subscriber ${i}: the new epoch's 5 messages`, timeout: LONG })
      expect(messages(s, 'live').map((f) => [f.epoch === oldEpoch ? 'old' : 'new', f.seq])).toEqual([...range(1, 5).map((n) => ['old', n]), ...range(1, 5).map((n) => ['new', n])])
    }
    for (const [i, w] of channels.entries()) {
      await waitFor(() => w.messages.length === 10, { message: `channel client ${i}: the new epoch's messages`, timeout: LONG })
      expect(w.gaps).toEqual([expect.objectContaining({ topic: 'live', since: 5, epoch: newEpoch })])
      expect(w.messages.map((m) => [m.epoch === oldEpoch ? 'old' : 'new', m.seq])).toEqual([...range(1, 5).map((n) => ['old', n]), ...range(1, 5).map((n) => ['new', n])])
    }
    const resumed = await client(trio[2])
    expect(await resumed.subscribe('live', { since: 5, epoch: oldEpoch })).toMatchObject({ seq: 5, epoch: newEpoch, recovered: false })
    for (const n of trio) {
      expect(n.child.exitCode).toBeNull()
      expect(holes(n)).toEqual([])
      // What was reported names the cause.
      for (const e of n.errors) expect(e).toMatch(/redisEngine: Redis at redis:\/\/127\.0\.0\.1:\d+\/? is unreachable/)
    }
  })

  it('CLIENT KILL TYPE pubsub mid-stream: the catch-up leaves no gap and delivers nothing twice', async () => {
    const trio = await cluster(3)
    const subscribers = await Promise.all([0, 1, 2].map((i) => client(trio[i])))
    for (const s of subscribers) await s.subscribe('k')
    const publishers = await Promise.all(trio.map((n) => client(n)))
    const ROUNDS = 5
    const PER = 20
    for (let round = 0; round < ROUNDS; round++) {
      for (let i = 0; i < PER; i++) for (const [k, p] of publishers.entries()) p.send({ type: 'publish', topic: 'k', id: `${round}-${k}-${i}`, data: i })
      // Every node's pub/sub connection is cut while publishes are in flight.
      await admin.sendCommand(['CLIENT', 'KILL', 'TYPE', 'pubsub'])
    }
    const total = ROUNDS * PER * publishers.length
    await Promise.all(publishers.map((p) => waitFor(() => p.of('ack').length === ROUNDS * PER, { timeout: LONG })))
    for (const [i, s] of subscribers.entries()) {
      await waitFor(() => messages(s, 'k').length >= total, { message: `subscriber ${i}: all ${total}`, timeout: LONG })
      expect(seqs(messages(s, 'k'))).toEqual(range(1, total))
    }
    for (const n of trio) expect(n.errors).toEqual([])
  })

  it('presence spans nodes, and a SIGKILLed node\'s members leave within the node TTL', async () => {
    const NODE_TTL = 1500
    const trio = await cluster(3, { nodeTtlMs: NODE_TTL })
    const [a, b, c] = await Promise.all(trio.map((n) => client(n)))
    await a.subscribe('room')
    await b.subscribe('room')
    const joined = await c.subscribe('room')
    const ids = (members: unknown) => (members as Array<{ clientId: string }>).map((m) => m.clientId).sort()
    expect(ids(joined.presence)).toEqual([a.clientId, b.clientId, c.clientId].sort())
    await a.waitType('presence', (f) => f.event === 'join' && (f.member as { clientId: string }).clientId === c.clientId)

    const killedAt = Date.now()
    await trio[2].kill('SIGKILL')
    for (const watcher of [a, b]) {
      const leave = await watcher.waitFor((f) => f.type === 'presence' && f.event === 'leave' && (f.member as { clientId: string }).clientId === c.clientId, 'the leave of the killed node\'s member', 0, 10 * NODE_TTL)
      expect(leave.topic).toBe('room')
    }
    console.log(`[redis-cluster] a SIGKILLed node's member left after ${Date.now() - killedAt} ms (node TTL ${NODE_TTL} ms)`)
    const d = await client(trio[1])
    expect(ids((await d.subscribe('room')).presence)).toEqual([a.clientId, b.clientId, d.clientId].sort())
    for (const n of trio.slice(0, 2)) expect(n.errors).toEqual([])
  })
})
