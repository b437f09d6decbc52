// l. Publish→ack: one client publishes stored messages one after another (the next once the
// previous is acked), 2,000 of them after 200 of warm-up, to a server in its own process on
// each engine; then 50 clients do the same at once for 5 s (on SQLite the publishes of one
// tick share a commit). Latency: publish frame sent → its ack received (the engine's publish:
// dedupe, number, store, fan out; SQLite: a WAL commit, fsynced with 'full'; Redis: one Lua
// script on a local redis-server without persistence).
import WebSocket from 'ws'
import { forkServer } from '../lib/child.mjs'
import { built, load, Skip } from '../lib/build.mjs'
import { percentile } from '../lib/util.mjs'

const WARMUP = 200
const N = 2000
const TIMEOUT = 10_000
const CONCURRENT_CLIENTS = 50
const CONCURRENT_SECONDS = 5

export const meta = {
  id: 'l',
  title: `Publish→ack per engine: one publisher, ${N.toLocaleString('en-US')} sequential stored publishes (~100-byte payload); then ${CONCURRENT_CLIENTS} publishers`,
  adapter: false,
  rounds: 3,
  libraries: ['memory', 'sqlite-full', 'sqlite-normal', 'redis'],
  timeoutMs: 90_000,
  columns: [
    { key: 'engine', label: 'engine' },
    { key: 'p50', label: 'p50 (ms)' },
    { key: 'p99', label: 'p99 (ms)' },
    { key: 'max', label: 'max (ms)' },
    { key: 'acksPerSec', label: 'acks/s (sequential)' },
    { key: 'concurrentP50', label: `${CONCURRENT_CLIENTS} publishers: p50 (ms)` },
    { key: 'concurrentP99', label: 'p99 (ms)' },
    { key: 'concurrentAcksPerSec', label: 'acks/s' },
  ],
  note: `vue-realtime createRealtimeServer, presence and rate limit off, raw ws clients. memory: memoryEngine(). sqlite-full / sqlite-normal: sqliteEngine with synchronous 'full' (an fsync per commit) or 'normal', a fresh file under bench/.tmp (the fsync cost is that disk's). redis: redisEngine on a fresh local redis-server (no persistence), same machine. Then ${CONCURRENT_CLIENTS} clients, one publish in flight each, for ${CONCURRENT_SECONDS} s.`,
}

const ENGINES = { memory: 'memoryEngine()', 'sqlite-full': "sqliteEngine, 'full'", 'sqlite-normal': "sqliteEngine, 'normal'", redis: 'redisEngine (local redis-server)' }

/** A raw ws publisher: `publish(id)` resolves with the ms until its ack. */
async function publisher(url) {
  const ws = new WebSocket(url, ['vue-realtime.v1'])
  const waiting = new Map()
  await new Promise((resolve, reject) => {
    ws.on('error', reject)
    ws.on('message', (raw) => {
      const text = raw.toString()
      if (text.startsWith('{"type":"welcome"')) return resolve()
      const f = JSON.parse(text)
      if (f.type === 'ack' || f.type === 'error') waiting.get(f.id ?? f.ref)?.(f)
    })
  })
  const payload = 'x'.repeat(80)
  const publish = (id) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ack for ${id} within ${TIMEOUT} ms`)), TIMEOUT)
      const sentAt = performance.now()
      waiting.set(id, (f) => {
        clearTimeout(timer)
        waiting.delete(id)
        if (f.type !== 'ack') return reject(new Error(`publish ${id}: ${f.code} ${f.message}`))
        resolve(performance.now() - sentAt)
      })
      ws.send(JSON.stringify({ type: 'publish', topic: 'bench:ack', id, data: { payload } }))
    })
  return { ws, publish }
}

export async function run({ library }) {
  const s = await built('server')
  if (!s.ok) throw new Skip(`vue-realtime server: ${s.reason}`)
  let redis = null
  if (library === 'redis') redis = await (await load('redis')).startRedis()
  const server = await forkServer('./ack-server.mjs', [library, redis?.url ?? ''], 30_000)
  const clients = []
  try {
    const url = `ws://127.0.0.1:${server.port}/`
    const one = await publisher(url)
    clients.push(one)
    for (let i = 0; i < WARMUP; i++) await one.publish(`w${i}`)
    const latencies = []
    const t0 = performance.now()
    for (let i = 0; i < N; i++) latencies.push(await one.publish(`m${i}`))
    const seconds = (performance.now() - t0) / 1000

    clients.push(...(await Promise.all(Array.from({ length: CONCURRENT_CLIENTS }, () => publisher(url)))))
    const concurrent = []
    const c0 = performance.now()
    const end = c0 + CONCURRENT_SECONDS * 1000
    await Promise.all(
      clients.slice(1).map(async (c, k) => {
        for (let i = 0; performance.now() < end; i++) concurrent.push(await c.publish(`c${k}-${i}`))
      }),
    )
    const concurrentSeconds = (performance.now() - c0) / 1000
    const r = (n) => Math.round(n * 100) / 100
    return {
      engine: ENGINES[library],
      p50: r(percentile(latencies, 50)),
      p99: r(percentile(latencies, 99)),
      max: r(percentile(latencies, 100)),
      acksPerSec: Math.round(N / seconds),
      concurrentP50: r(percentile(concurrent, 50)),
      concurrentP99: r(percentile(concurrent, 99)),
      concurrentAcksPerSec: Math.round(concurrent.length / concurrentSeconds),
    }
  } finally {
    for (const c of clients) c.ws.terminate()
    await server.stop()
    await redis?.stop()
  }
}
