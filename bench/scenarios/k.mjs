// k. Cross-node fan-out: 3 server processes on one Redis (a fresh redis-server, no
// persistence), 1,000 subscribers of one topic spread evenly across them, one publisher on
// node 1 sending 100 publishes/s for 10 s. vue-realtime: createRealtimeServer on redisEngine
// (stored, acked publishes: Lua publish, one SUBSCRIBE per topic per node). socket.io: a room
// broadcast through @socket.io/redis-adapter on the same kind of Redis. Both driven by the same
// lean raw-`ws` clients (frames by hand), as in scenario i. Latency: publish sent → frame
// received on a subscriber of node 2 or 3 (remote to the publisher), one clock.
import WebSocket from 'ws'
import { forkServer } from '../lib/child.mjs'
import { built, load, Skip } from '../lib/build.mjs'
import { percentile, sleep, until } from '../lib/util.mjs'

const NODES = 3
const CLIENTS = Number(process.env.BENCH_CLUSTER_CLIENTS ?? 1000)
const RATE = 100
const SECONDS = 10
const CONNECT_BATCH = 100

export const meta = {
  id: 'k',
  title: `Cross-node fan-out: ${NODES} server processes on one Redis, ${CLIENTS.toLocaleString('en-US')} subscribers spread across them, ${RATE} publishes/s for ${SECONDS} s`,
  adapter: false,
  rounds: 3,
  baseline: 'socket.io',
  ratios: [{ key: 'deliveriesPerSec', label: 'deliveries/s × socket.io' }],
  libraries: ['vue-realtime', 'socket.io'],
  timeoutMs: 120_000,
  columns: [
    { key: 'clients', label: 'subscribers' },
    { key: 'deliveriesPerSec', label: 'deliveries/s' },
    { key: 'delivered', label: 'delivered' },
    { key: 'p50', label: 'remote p50 (ms)' },
    { key: 'p99', label: 'remote p99 (ms)' },
    { key: 'max', label: 'remote max (ms)' },
    { key: 'localP99', label: 'publisher\'s node p99 (ms)' },
    { key: 'nodesCpu', label: 'nodes CPU', format: (v) => `${v} %` },
    { key: 'clientCpu', label: 'client CPU', format: (v) => `${v} %` },
  ],
  note: 'vue-realtime: redisEngine (Lua publish: dedupe, HINCRBY, XADD, PUBLISH), presence off, rate limit off. socket.io: @socket.io/redis-adapter over node-redis. Same raw-ws clients for both; the publisher is on node 1, "remote" = subscribers of nodes 2 and 3. nodes CPU = the three node processes together, in shares of one core (Redis not counted). Everything shares 2 cores: the figures include that contention.',
}

/** The publish time carried in a frame's data ({ t, n }), without a full JSON.parse. */
function stamp(text) {
  const i = text.indexOf('"t":')
  return i === -1 ? NaN : parseFloat(text.slice(i + 4, i + 30))
}

const TOPIC = 'bench:cluster'

function vrClient(url, onData) {
  const ws = new WebSocket(url, ['vue-realtime.v1'])
  const ready = new Promise((resolve, reject) => {
    ws.on('error', reject)
    ws.on('message', (raw) => {
      const text = raw.toString()
      if (text.startsWith('{"type":"message"')) return onData(stamp(text))
      const f = JSON.parse(text)
      if (f.type === 'welcome' && onData) ws.send(JSON.stringify({ type: 'subscribe', topic: TOPIC }))
      else if (f.type === 'welcome') resolve()
      else if (f.type === 'subscribed') resolve()
    })
  })
  return { ws, ready, publish: (n, data) => ws.send(JSON.stringify({ type: 'publish', topic: TOPIC, id: `p-${n}`, data })) }
}

/** socket.io client over raw ws: engine.io open (0), namespace connect (40), events (42), ping (2) → pong (3). */
function ioClient(url, onData) {
  const ws = new WebSocket(`${url}/socket.io/?EIO=4&transport=websocket${onData ? '' : '&role=publisher'}`)
  const ready = new Promise((resolve, reject) => {
    ws.on('error', reject)
    ws.on('message', (raw) => {
      const t = raw.toString()
      if (t === '2') return ws.send('3')
      if (t[0] === '0') return ws.send('40')
      if (t.startsWith('40')) return resolve()
      if (t.startsWith('42') && onData) onData(stamp(t))
    })
  })
  return { ws, ready, publish: (n, data) => ws.send(`42${JSON.stringify(['pub', data])}`) }
}

function cpuOf(node) {
  return new Promise((resolve) => {
    node.child.once('message', (m) => resolve(m.cpu))
    node.send('cpu')
  })
}

export async function run({ library }) {
  if (library === 'vue-realtime') {
    const s = await built('server')
    if (!s.ok) throw new Skip(`vue-realtime server: ${s.reason}`)
  }
  const { startRedis } = await load('redis')
  const redis = await startRedis()
  const kind = library === 'vue-realtime' ? 'vr' : 'io'
  const nodes = []
  const clients = []
  try {
    for (let i = 0; i < NODES; i++) nodes.push(await forkServer('./cluster-server.mjs', [kind, redis.url], 30_000))
    const make = kind === 'vr' ? vrClient : ioClient
    const urls = nodes.map((n) => `ws://127.0.0.1:${n.port}/`.replace(/\/$/, kind === 'vr' ? '/' : ''))
    const remote = []
    const local = []
    let delivered = 0
    let lastAt = 0
    const onData = (bucket) => (t) => {
      const now = performance.now()
      delivered += 1
      lastAt = now
      bucket.push(now - t)
    }
    for (let i = 0; i < CLIENTS; i += CONNECT_BATCH) {
      const batch = []
      for (let k = i; k < Math.min(CLIENTS, i + CONNECT_BATCH); k++) batch.push(make(urls[k % NODES], onData(k % NODES === 0 ? local : remote)))
      clients.push(...batch)
      await Promise.all(batch.map((c) => c.ready))
    }
    const publisher = make(urls[0], null)
    clients.push(publisher)
    await publisher.ready
    await sleep(300)

    const total = RATE * SECONDS
    const cpu0 = await Promise.all(nodes.map(cpuOf))
    const clientCpu0 = process.cpuUsage()
    const t0 = performance.now()
    let sent = 0
    while (sent < total) {
      const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * RATE) + 1)
      for (; sent < due; sent++) publisher.publish(sent, { t: performance.now(), n: sent })
      await sleep(2)
    }
    const expected = total * CLIENTS
    await until(() => delivered >= expected, 15_000, 10)
    const seconds = (lastAt - t0) / 1000
    const wall = (performance.now() - t0) * 1000
    const cpu1 = await Promise.all(nodes.map(cpuOf))
    const used = cpu1.reduce((sum, b, i) => sum + (b.user + b.system - cpu0[i].user - cpu0[i].system), 0)
    const clientCpu1 = process.cpuUsage()
    const round1 = (n) => (n == null ? null : Math.round(n * 10) / 10)
    return {
      clients: CLIENTS,
      deliveriesPerSec: Math.round(delivered / seconds),
      delivered: `${delivered.toLocaleString('en-US')} / ${expected.toLocaleString('en-US')}`,
      p50: round1(percentile(remote, 50)),
      p99: round1(percentile(remote, 99)),
      max: Math.round(percentile(remote, 100)),
      localP99: round1(percentile(local, 99)),
      nodesCpu: Math.round((used / wall) * 100),
      clientCpu: Math.round(((clientCpu1.user + clientCpu1.system - clientCpu0.user - clientCpu0.system) / wall) * 100),
    }
  } finally {
    for (const c of clients) c.ws.terminate()
    await Promise.all(nodes.map((n) => n.stop()))
    await redis.stop()
  }
}
