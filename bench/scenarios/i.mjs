// i. Server fan-out: 1,000 subscribers of one topic, 100 publishes/s, each server in its own
// process and the subscribers in CLIENT_PROCESSES processes of their own (lean raw-`ws` clients
// speaking each protocol by hand, so the client side costs the same for every server):
//   ws            the limit of a Node server on `ws`: one pre-encoded frame sent to every client
//   vue-realtime  createRealtimeServer, presence off, rate limit off, stored publishes
//   socket.io     a room broadcast
// Latency: publish sent → frame received, on the epoch clock every process shares.
import WebSocket from 'ws'
import { ask, forkServer } from '../lib/child.mjs'
import { built, Skip } from '../lib/build.mjs'
import { sleep } from '../lib/util.mjs'

const CLIENTS = Number(process.env.BENCH_FANOUT_CLIENTS ?? 1000)
const CLIENT_PROCESSES = 1
const RATE = 100
const SECONDS = 3
const BUCKET_MS = 0.05
const now = () => performance.timeOrigin + performance.now()

export const meta = {
  id: 'i',
  title: `Server fan-out: ${CLIENTS.toLocaleString('en-US')} subscribers of one topic, ${RATE} publishes/s for ${SECONDS} s`,
  adapter: false,
  libraries: ['ws', 'vue-realtime', 'socket.io'],
  rounds: 5,
  peerRounds: 2,
  baseline: 'ws',
  ratios: [
    { key: 'p99', label: 'p99 × raw ws' },
    { key: 'deliveriesPerSec', label: 'deliveries/s × raw ws' },
  ],
  timeoutMs: 90_000,
  columns: [
    { key: 'clients', label: 'subscribers' },
    { key: 'deliveriesPerSec', label: 'deliveries/s' },
    { key: 'deliveredPct', label: 'delivered', format: (v) => `${v} %` },
    { key: 'p50', label: 'p50 (ms)' },
    { key: 'p99', label: 'p99 (ms)' },
    { key: 'max', label: 'max (ms)' },
    { key: 'serverCpu', label: 'server CPU', format: (v) => `${v} %` },
  ],
  note: `ws = a raw \`ws\` server sending one pre-encoded frame to every client (the limit). vue-realtime: createRealtimeServer, presence off, rate limit off (the publisher sends ${RATE} frames/s, exactly the default limit), stored publishes. socket.io: a room broadcast. Server CPU = share of one core. Target: p99 ≤ 1.5× raw ws, deliveries/s equal to it.`,
}

/** The publisher, in this process: a lean client of each protocol. */
function publisher(kind, url) {
  if (kind === 'io') {
    const ws = new WebSocket(`${url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket&role=publisher`)
    const ready = new Promise((resolve, reject) => {
      ws.on('error', reject)
      ws.on('message', (raw) => {
        const t = raw.toString()
        if (t === '2') return ws.send('3')
        if (t[0] === '0') return ws.send('40')
        if (t.startsWith('40')) resolve()
      })
    })
    return { ws, ready, publish: (n, data) => ws.send(`42${JSON.stringify(['pub', data])}`) }
  }
  if (kind === 'raw') {
    const ws = new WebSocket(`${url}?role=publisher`)
    const ready = new Promise((resolve, reject) => {
      ws.on('error', reject)
      ws.on('open', resolve)
    })
    return { ws, ready, publish: (n, data) => ws.send(JSON.stringify(data)) }
  }
  const ws = new WebSocket(url, ['vue-realtime.v1'])
  const ready = new Promise((resolve, reject) => {
    ws.on('error', reject)
    ws.on('message', (raw) => JSON.parse(raw.toString()).type === 'welcome' && resolve())
  })
  return { ws, ready, publish: (n, data) => ws.send(JSON.stringify({ type: 'publish', topic: 'bench:fanout', id: `p-${n}`, data })) }
}

function percentileOf(histogram, overflow, total, p) {
  const rank = Math.ceil((p / 100) * total)
  let seen = 0
  for (let k = 0; k < histogram.length; k++) {
    seen += histogram[k]
    if (seen >= rank) return (k + 1) * BUCKET_MS
  }
  const sorted = [...overflow].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, rank - seen - 1)] ?? null
}

function serverCpu(server) {
  return new Promise((resolve) => {
    server.child.once('message', (m) => resolve(m.cpu))
    server.send('cpu')
  })
}

export async function run({ library }) {
  if (library === 'vue-realtime') {
    const s = await built('server')
    if (!s.ok) throw new Skip(`vue-realtime server: ${s.reason}`)
  }
  const kind = { 'vue-realtime': 'vr', 'socket.io': 'io', ws: 'raw' }[library]
  const server = await forkServer('./fanout-server.mjs', [kind])
  const url = kind === 'io' ? `http://127.0.0.1:${server.port}` : `ws://127.0.0.1:${server.port}/`
  const groups = []
  let pub
  try {
    const size = Math.ceil(CLIENTS / CLIENT_PROCESSES)
    for (let i = 0; i < CLIENTS; i += size) groups.push(forkServer('./fanout-clients.mjs', [kind, url, String(Math.min(size, CLIENTS - i))], 60_000))
    const clients = await Promise.all(groups)
    pub = publisher(kind, url)
    await pub.ready
    await sleep(200)

    const total = RATE * SECONDS
    const cpu0 = await serverCpu(server)
    const t0 = now()
    let sent = 0
    while (sent < total) {
      const due = Math.min(total, Math.floor(((now() - t0) / 1000) * RATE) + 1)
      for (; sent < due; sent++) pub.publish(sent, { t: now(), n: sent })
      await sleep(2)
    }
    const expected = total * CLIENTS
    let reports = []
    const deadline = performance.now() + 10_000
    while (performance.now() < deadline) {
      await sleep(100)
      reports = await Promise.all(clients.map((c) => ask(c, { cmd: 'report' })))
      if (reports.reduce((n, r) => n + r.delivered, 0) >= expected) break
    }
    const cpu1 = await serverCpu(server)
    const delivered = reports.reduce((n, r) => n + r.delivered, 0)
    const histogram = new Array(reports[0].histogram.length).fill(0)
    for (const r of reports) r.histogram.forEach((c, k) => (histogram[k] += c))
    const overflow = reports.flatMap((r) => r.overflow)
    const lastAt = Math.max(...reports.map((r) => r.lastAt))
    const wall = (now() - t0) * 1000
    return {
      clients: CLIENTS,
      deliveriesPerSec: Math.round(delivered / ((lastAt - t0) / 1000)),
      deliveredPct: Math.round((delivered / expected) * 1000) / 10,
      p50: Math.round(percentileOf(histogram, overflow, delivered, 50) * 10) / 10,
      p99: Math.round(percentileOf(histogram, overflow, delivered, 99) * 10) / 10,
      max: Math.round(overflow.length ? overflow.reduce((a, b) => Math.max(a, b), 0) : percentileOf(histogram, [], delivered, 100)),
      serverCpu: Math.round(((cpu1.user + cpu1.system - cpu0.user - cpu0.system) / wall) * 100),
      clientCpu: reports.map((r) => Math.round(((r.cpu.user + r.cpu.system) / wall) * 100)),
    }
  } finally {
    pub?.ws.terminate()
    await Promise.all(groups.map((g) => g.then((c) => c.stop(), () => {})))
    await server.stop()
  }
}
