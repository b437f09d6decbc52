/**
 * Server fuzz over frame structure (issue 14, "Tests that find the next ones"), with fast-check
 * against real servers on loopback. Failures print a seed and a shrunk counterexample; make it
 * a plain regression test.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { memoryEngine, parseClientFrame, redisEngine, sqliteEngine, type RealtimeEngine, type RealtimeServer } from '../../src/server'
import { startRedis, type RedisServer } from '../support/redis'
import { withLatency } from './engine-latency'
import { connect, startServer, type Frame, type TestClient } from './helpers'
import { waitFor } from '../support/wait'

const MAX_PAYLOAD = 16 * 1024
const MAX_DEPTH = 16
/** Runs per property: enough to shrink to small cases, bounded so CI stays within seconds. */
const RUNS = Number(process.env.FUZZ_RUNS ?? 40)

/** Deterministic PRNG (the engine latency of a run follows its seed). */
function prng(seed: number): () => number {
  return () => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0
    return seed / 2 ** 32
  }
}
let random = prng(1)

type Kind = 'instant' | 'slow' | 'redis' | 'sqlite'
interface Cluster {
  /** What the checks read from (every node sees the same store). */
  engine: RealtimeEngine
  /** The engine of each server: one shared instance, or one per node (Redis). */
  engines: RealtimeEngine[]
  /** Two servers: two nodes. */
  servers: RealtimeServer[]
}
/**
 * A synchronous memory engine, one whose every call answers later (as Redis or SQL would), the
 * Redis engine on a real redis-server with one engine (one pair of connections) per server, and
 * SQLite (batched commits; a two-topic cache, so positions are read back from the file all the
 * time) shared by both servers.
 */
const clusters = {} as Record<Kind, Cluster>
const dataDir = mkdtempSync(join(tmpdir(), 'vue-realtime-fuzz-'))
const errors: Error[] = []
let run = 0
let redis: RedisServer

beforeAll(async () => {
  redis = await startRedis()
  const memory = memoryEngine()
  const slow = withLatency(memoryEngine(), () => random())
  const sqlite = sqliteEngine({ path: join(dataDir, 'fuzz.db'), cacheTopics: 2 })
  const nodes: Record<Kind, RealtimeEngine[]> = {
    instant: [memory, memory],
    slow: [slow, slow],
    redis: [redisEngine({ url: redis.url, prefix: 'fuzz:' }), redisEngine({ url: redis.url, prefix: 'fuzz:' })],
    sqlite: [sqlite, sqlite],
  }
  for (const [name, engines] of Object.entries(nodes) as Array<[Kind, RealtimeEngine[]]>) {
    const options = { maxPayload: MAX_PAYLOAD, maxDepth: MAX_DEPTH, rateLimit: false, newTopicLimit: false, onRequest: { echo: (data: unknown) => data } } as const
    const servers = [await startServer({ ...options, engine: engines[0] }), await startServer({ ...options, engine: engines[1] })]
    clusters[name] = { engine: engines[0], engines: [...new Set(engines)], servers }
    for (const server of servers) server.on('error', (e) => errors.push(e))
  }
}, 60_000)
afterAll(async () => {
  for (const { engines, servers } of Object.values(clusters)) {
    await Promise.all(servers.map((s) => s.close()))
    await Promise.all(engines.map((e) => e.close()))
  }
  await redis?.stop()
  rmSync(dataDir, { recursive: true, force: true })
})

const key = (id: unknown) => `${typeof id}:${String(id)}`

// ---------------------------------------------------------------------------------------------
// 1. One client, generated frames: structure, nesting depth and sizes near every limit.

const topic = fc.oneof(
  fc.constantFrom('a', 'room:1', 'doc/7.x', 't'.repeat(128), 't'.repeat(129), '', 'bad topic', 'é', '__proto__'),
  fc.stringMatching(/^[A-Za-z0-9:_\-./]{1,12}$/),
)
const id = fc.oneof(
  fc.integer({ min: -1000, max: 1000 }),
  fc.constantFrom(Number.MAX_SAFE_INTEGER, 2 ** 53, 1.5, '', 'i'.repeat(128), 'i'.repeat(129), null, true, ['x'], { id: 1 }),
  fc.string({ maxLength: 12 }),
)
/** JSON text of a payload: plain values, nesting around the depth limit, and strings near the size limit. */
const data = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
  fc.constantFrom(MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1, 2 * MAX_DEPTH, 5000).chain((depth) =>
    fc.constantFrom('[', '{"k":').map((open) => open.repeat(depth) + '1' + (open === '[' ? ']' : '}').repeat(depth)),
  ),
  fc.integer({ min: MAX_PAYLOAD - 400, max: MAX_PAYLOAD - 200 }).map((n) => JSON.stringify('x'.repeat(n))),
)
const field = (name: string, value: fc.Arbitrary<unknown>) => fc.option(value.map((v) => `,"${name}":${JSON.stringify(v)}`), { nil: '' })

const frame = fc.oneof(
  fc.tuple(topic, id, data, field('ephemeral', fc.oneof(fc.boolean(), fc.constant('yes'))), field('extra', fc.jsonValue({ maxDepth: 2 }))).map(
    ([t, i, d, e, x]) => `{"type":"publish","topic":${JSON.stringify(t)},"id":${JSON.stringify(i)},"data":${d}${e}${x}}`,
  ),
  fc.tuple(topic, field('since', fc.oneof(fc.nat(20), fc.constant(-1), fc.constant(1.5))), field('history', fc.nat(20)), field('epoch', fc.oneof(fc.string({ maxLength: 3 }), fc.constant('e'.repeat(65))))).map(
    ([t, s, h, e]) => `{"type":"subscribe","topic":${JSON.stringify(t)}${s}${h}${e}}`,
  ),
  topic.map((t) => `{"type":"unsubscribe","topic":${JSON.stringify(t)}}`),
  fc.tuple(id, fc.constantFrom('echo', 'missing', 'bad method!'), data).map(([i, m, d]) => `{"type":"request","id":${JSON.stringify(i)},"method":"${m}","data":${d}}`),
  field('ts', fc.oneof(fc.integer(), fc.constant('now'))).map((ts) => `{"type":"ping"${ts}}`),
  fc.constantFrom('ping', '{', '[]', 'null', '{"type":1}', '{"type":"explode"}', '{"type":"constructor"}', '{"type":"publish"}'),
  // Exactly at the payload limit, and just under it.
  fc.tuple(fc.nat(3), fc.string({ maxLength: 8 })).map(([under, i]) => {
    const frame = (pad: number) => `{"type":"publish","topic":"edge","id":${JSON.stringify(i || 'edge')},"data":"${'x'.repeat(pad)}"}`
    return frame(MAX_PAYLOAD - under - Buffer.byteLength(frame(0)))
  }),
).filter((text) => Buffer.byteLength(text) <= MAX_PAYLOAD) // a larger one closes the connection: tested on its own below

/** Nesting depth of a parsed JSON value, without recursion (the frame object is level 1). */
function depthOf(value: unknown): number {
  let max = 0
  const stack: Array<[unknown, number]> = [[value, 1]]
  while (stack.length) {
    const [v, d] = stack.pop()!
    if (typeof v !== 'object' || v === null) continue
    max = Math.max(max, d)
    for (const child of Object.values(v)) stack.push([child, d + 1])
  }
  return max
}

interface Expected {
  /** Per id: the answers a publish frame must get, sorted ('ack' or an error code). */
  publishes: Map<string, string[]>
  /** Per id: 'response' or an error code. */
  requests: Map<string, string[]>
  subscribes: number
  unsubscribes: number
}

function add(map: Map<string, string[]>, id: unknown, outcome: string): void {
  map.set(key(id), [...(map.get(key(id)) ?? []), outcome].sort())
}

/** What the server must answer: an independent depth check, then the project's validator. */
function expectations(frames: string[]): Expected {
  const expected: Expected = { publishes: new Map(), requests: new Map(), subscribes: 0, unsubscribes: 0 }
  for (const text of frames) {
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch {
      continue
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) continue
    const f = value as Record<string, unknown>
    const parsed = parseClientFrame(text)
    const tooDeep = depthOf(value) - 1 > MAX_DEPTH
    const hasId = (typeof f.id === 'string' && f.id.length > 0 && f.id.length <= 128) || Number.isSafeInteger(f.id)
    const outcome = !parsed.ok ? parsed.error.code : tooDeep ? 'invalid_frame' : null
    if (f.type === 'publish' && hasId) add(expected.publishes, f.id, outcome ?? 'ack')
    if (f.type === 'request' && hasId) add(expected.requests, f.id, outcome ?? 'response')
    if (f.type === 'subscribe') expected.subscribes++
    if (f.type === 'unsubscribe') expected.unsubscribes++
  }
  return expected
}

function answers(c: TestClient) {
  const frames = c.frames
  const count = (match: (f: Frame) => boolean) => frames.filter(match).length
  const outcomes = (type: string, frame: string) => {
    const out = new Map<string, string[]>()
    for (const f of frames) {
      if (f.type === type) add(out, f.id, type)
      else if (f.type === 'error' && f.frame === frame && f.ref !== undefined) add(out, f.ref, String(f.code))
    }
    return out
  }
  return {
    frames,
    publishes: outcomes('ack', 'publish'),
    requests: outcomes('response', 'request'),
    subscribes: count((f) => f.type === 'subscribed' || (f.type === 'error' && f.frame === 'subscribe')),
    unsubscribes: count((f) => f.type === 'unsubscribed' || (f.type === 'error' && f.frame === 'unsubscribe')),
  }
}

const answered = (got: Map<string, string[]>, wanted: Map<string, string[]>) => [...wanted].every(([k, list]) => (got.get(k)?.length ?? 0) >= list.length)

describe.each(['instant', 'sqlite'] as const)('fuzz: frame structure, %s engine', (kind) => {
  it('answers every frame once, never internal, never crashes, and bounds nesting before storing', { timeout: 300_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(frame, { minLength: 1, maxLength: 25 }), fc.boolean(), async (frames, oversized) => {
        const c = await connect(clusters[kind].servers[run++ % 2].url)
        try {
          for (const text of frames) c.send(text)
          const expected = expectations(frames)
          await waitFor(
            () => {
              const got = answers(c)
              return got.subscribes >= expected.subscribes && got.unsubscribes >= expected.unsubscribes && answered(got.publishes, expected.publishes) && answered(got.requests, expected.requests)
            },
            { message: 'an answer to every frame', timeout: 1500 },
          )
          await c.roundTrip()
          const got = answers(c)
          expect(got.publishes).toEqual(expected.publishes)
          expect(got.requests).toEqual(expected.requests)
          expect(got.subscribes).toBe(expected.subscribes)
          expect(got.unsubscribes).toBe(expected.unsubscribes)
          expect(got.frames.filter((f) => f.code === 'internal' || (f.type === 'response' && (f.error as { code?: string } | undefined)?.code === 'internal'))).toEqual([])
          expect(c.ws.readyState).toBe(c.ws.OPEN)
          if (oversized) {
            c.send(`{"type":"publish","topic":"a","id":"big","data":${JSON.stringify('x'.repeat(MAX_PAYLOAD))}}`)
            expect((await c.closed).code).toBe(1009)
          }
        } finally {
          await c.close()
        }
        expect(errors).toEqual([])
      }),
      { numRuns: RUNS },
    )
    // Every stored message can still be replayed and encoded: no topic was poisoned (bug 19).
    const { engine } = clusters[kind]
    for (const name of await engine.topics()) {
      const history = await engine.history(name, { since: 0, limit: 1000 })
      for (const m of history.messages) expect(() => JSON.parse(m.data)).not.toThrow()
    }
  })
})

// ---------------------------------------------------------------------------------------------
// 2. Several clients on two nodes, concurrent frame sequences on shared topics.

type Op =
  | { kind: 'subscribe'; client: number; topic: number; since?: number; history?: number }
  | { kind: 'unsubscribe'; client: number; topic: number }
  | { kind: 'publish'; client: number; topic: number; id: number; ephemeral: boolean }

const CLIENTS = 3
const TOPICS = 2
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('subscribe' as const), client: fc.nat(CLIENTS - 1), topic: fc.nat(TOPICS - 1), since: fc.option(fc.nat(12), { nil: undefined }), history: fc.option(fc.nat(5), { nil: undefined }) }),
  fc.record({ kind: fc.constant('unsubscribe' as const), client: fc.nat(CLIENTS - 1), topic: fc.nat(TOPICS - 1) }),
  fc.record({ kind: fc.constant('publish' as const), client: fc.nat(CLIENTS - 1), topic: fc.nat(TOPICS - 1), id: fc.nat(15), ephemeral: fc.boolean() }),
  fc.record({ kind: fc.constant('publish' as const), client: fc.nat(CLIENTS - 1), topic: fc.nat(TOPICS - 1), id: fc.nat(15), ephemeral: fc.constant(false) }),
)

/**
 * Between two `subscribed` frames of a topic a client sees: the live run after the first
 * (contiguous from its head), then the replay of the next subscribe (contiguous, ending at its
 * head). Checks that, and that the last subscription got every later message exactly once.
 */
function checkStream(frames: Frame[], name: string, subscribes: Op[], head: number): void {
  let expectedNext: number | null = null // next live seq while subscribed, null while not
  let pending: Frame[] = []
  let index = 0
  for (const f of frames) {
    if (f.topic !== name) continue
    if (f.type === 'message' && f.seq !== undefined) pending.push(f)
    if (f.type === 'unsubscribed' || f.type === 'subscribed') {
      let live = pending
      let replay: Frame[] = []
      if (f.type === 'subscribed') {
        const sub = subscribes[index++] as Extract<Op, { kind: 'subscribe' }>
        const h = f.seq as number
        const from = sub.since !== undefined ? (sub.since >= h ? h : sub.since) : sub.history ? Math.max(0, h - sub.history) : h
        const count = h - from
        replay = count > 0 ? pending.slice(-count) : []
        live = pending.slice(0, pending.length - replay.length)
        expect(replay.map((m) => m.seq)).toEqual(Array.from({ length: count }, (_, i) => from + 1 + i))
      }
      if (expectedNext === null) expect(live).toEqual([])
      else expect(live.map((m) => m.seq)).toEqual(Array.from({ length: live.length }, (_, i) => expectedNext! + i))
      expectedNext = f.type === 'subscribed' ? (f.seq as number) + 1 : null
      pending = []
    }
  }
  if (expectedNext === null) expect(pending).toEqual([])
  else expect(pending.map((m) => m.seq)).toEqual(Array.from({ length: head - expectedNext + 1 }, (_, i) => expectedNext! + i))
}

describe.each(['instant', 'slow', 'redis', 'sqlite'] as const)('fuzz: concurrent frame sequences per topic, %s engine', (kind) => {
  it('delivers every stored seq once, in order, to every subscriber, and answers every publish once', { timeout: 120_000 }, async () => {
    const { engine, servers } = clusters[kind]
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 40 }), fc.integer(), async (ops, seed) => {
        random = prng(seed)
        const prefix = `race${run++}`
        const clients = await Promise.all(Array.from({ length: CLIENTS }, (_, i) => connect(servers[i % 2].url)))
        const topicName = (t: number) => `${prefix}:${t}`
        try {
          for (const o of ops) {
            const c = clients[o.client]
            const name = topicName(o.topic)
            if (o.kind === 'subscribe') c.send({ type: 'subscribe', topic: name, ...(o.since !== undefined ? { since: o.since } : o.history !== undefined ? { history: o.history } : {}) })
            else if (o.kind === 'unsubscribe') c.send({ type: 'unsubscribe', topic: name })
            else c.send({ type: 'publish', topic: name, id: `${o.topic}:${o.ephemeral ? 'e' : 's'}${o.id}`, data: { from: o.client, id: o.id }, ...(o.ephemeral ? { ephemeral: true } : {}) })
          }
          // Each client waits for one answer per frame it sent (an unsubscribe is answered too).
          const isAnswer = (f: Frame) => ['ack', 'subscribed', 'unsubscribed', 'error'].includes(f.type)
          await Promise.all(
            clients.map((c, i) => {
              const mine = ops.filter((o) => o.client === i).length
              return waitFor(() => c.frames.filter(isAnswer).length >= mine, { message: `client ${i}: an answer to each of its ${mine} frames`, timeout: 2000 })
            }),
          )
          // Deliveries may still be on their way: a last publish per topic marks the end of each stream.
          const ends = await Promise.all(Array.from({ length: TOPICS }, (_, t) => servers[0].publish(topicName(t), 'end', { id: 'end' })))
          const heads = ends.map((end) => end.seq!)
          await Promise.all(
            clients.map((c, i) =>
              waitFor(
                () =>
                  heads.every((head, t) => {
                    const last = c.frames.filter((f) => f.topic === topicName(t) && (f.type === 'subscribed' || f.type === 'unsubscribed' || f.type === 'error')).at(-1)
                    // Subscribed at the end (from before the marker): the marker must arrive.
                    return last?.type !== 'subscribed' || (last.seq as number) >= head || c.frames.some((f) => f.topic === topicName(t) && f.seq === head)
                  }),
                { message: `client ${i} saw the end marker of its topics`, timeout: 2000 },
              ),
            ),
          )
          // What the engine stored: contiguous, each id once per topic.
          const stored = await Promise.all(Array.from({ length: TOPICS }, (_, t) => engine.history(topicName(t), { since: 0, limit: 1000 })))
          for (const { messages, head } of stored) {
            expect(messages.map((m) => m.seq)).toEqual(Array.from({ length: head }, (_, i) => i + 1))
            expect(new Set(messages.map((m) => m.id)).size).toBe(messages.length)
          }
          for (const [i, c] of clients.entries()) {
            expect(c.frames.filter((f) => f.code === 'internal')).toEqual([])
            // Every ack of a stored publish names the seq and epoch its id was stored under, duplicates included.
            for (const ack of c.frames.filter((f) => f.type === 'ack' && f.seq !== undefined)) {
              const { messages, epoch } = stored[Number(String(ack.id).split(':')[0])]
              expect({ seq: ack.seq, epoch: ack.epoch }).toEqual({ seq: messages.find((m) => m.id === ack.id)?.seq, epoch })
            }
            for (let t = 0; t < TOPICS; t++) {
              const name = topicName(t)
              const subscribes = ops.filter((o) => o.client === i && o.kind === 'subscribe' && o.topic === t)
              checkStream(c.frames, name, subscribes, heads[t])
              // Never its own ephemeral message.
              expect(c.frames.filter((f) => f.topic === name && f.ephemeral && f.from === c.clientId)).toEqual([])
            }
            const sent = ops.filter((o) => o.client === i && o.kind === 'publish').length
            expect(c.frames.filter((f) => f.type === 'ack' || (f.type === 'error' && f.frame === 'publish')).length).toBe(sent)
          }
        } finally {
          await Promise.all(clients.map((c) => c.close()))
        }
        expect(errors).toEqual([])
      }),
      { numRuns: RUNS },
    )
  })
})
