// l. Publish→ack: one client publishes stored messages one after another (the next once the
// previous is acked), 2,000 of them after 200 of warm-up, to a server in its own process on
// each engine. Latency: publish frame sent → its ack received (the engine's publish: dedupe,
// number, store, fan out; Redis: one Lua script on a local redis-server without persistence).
import WebSocket from 'ws'
import { forkServer } from '../lib/child.mjs'
import { built, load, Skip } from '../lib/build.mjs'
import { percentile } from '../lib/util.mjs'

const WARMUP = 200
const N = 2000
const TIMEOUT = 10_000

export const meta = {
  id: 'l',
  title: `Publish→ack, one publisher, ${N.toLocaleString('en-US')} sequential stored publishes (~100-byte payload)`,
  adapter: false,
  rounds: 3,
  libraries: ['memory', 'redis'],
  timeoutMs: 90_000,
  columns: [
    { key: 'engine', label: 'engine' },
    { key: 'p50', label: 'p50 (ms)' },
    { key: 'p99', label: 'p99 (ms)' },
    { key: 'max', label: 'max (ms)' },
    { key: 'acksPerSec', label: 'acks/s (sequential)' },
  ],
  note: 'vue-realtime createRealtimeServer, presence and rate limit off, a raw ws client. memory: memoryEngine(). redis: redisEngine on a fresh local redis-server (no persistence), same machine.',
}

const ENGINES = { memory: 'memoryEngine()', redis: 'redisEngine (local redis-server)' }

export async function run({ library }) {
  const s = await built('server')
  if (!s.ok) throw new Skip(`vue-realtime server: ${s.reason}`)
  let redis = null
  if (library === 'redis') redis = await (await load('redis')).startRedis()
  const server = await forkServer('./ack-server.mjs', [library, redis?.url ?? ''], 30_000)
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/`, ['vue-realtime.v1'])
  try {
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
    for (let i = 0; i < WARMUP; i++) await publish(`w${i}`)
    const latencies = []
    const t0 = performance.now()
    for (let i = 0; i < N; i++) latencies.push(await publish(`m${i}`))
    const seconds = (performance.now() - t0) / 1000
    const r = (n) => Math.round(n * 100) / 100
    return { engine: ENGINES[library], p50: r(percentile(latencies, 50)), p99: r(percentile(latencies, 99)), max: r(percentile(latencies, 100)), acksPerSec: Math.round(N / seconds) }
  } finally {
    ws.terminate()
    await server.stop()
    await redis?.stop()
  }
}
