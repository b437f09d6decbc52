// i. Server fan-out: 1,000 subscribers of one topic, 100 publishes/s, each server in its own
// process and the subscribers in CLIENT_PROCESSES processes of their own (lean raw-`ws` clients
// speaking each protocol by hand, so the client side costs the same for every server):
//   ws            the limit of a Node server on `ws`: one pre-encoded frame sent to every client
//   ws-batched    the same, each socket corked for the rest of the tick: the frames one socket
//                 gets in one tick leave in one write (what createRealtimeServer does)
//   vue-realtime  createRealtimeServer, presence off, rate limit off, stored publishes
//   socket.io     a room broadcast
// Latency: publish sent → frame received, on the epoch clock every process shares.
import { ask, forkServer } from '../lib/child.mjs'
import { cpuUsageOf, fanoutPublisher } from '../lib/publisher.mjs'
import { built, Skip } from '../lib/build.mjs'
import { histogramPercentile, mergeHistograms, sleep } from '../lib/util.mjs'

const CLIENTS = Number(process.env.BENCH_FANOUT_CLIENTS ?? 1000)
const CLIENT_PROCESSES = 1
const RATE = 100
const SECONDS = 3
const now = () => performance.timeOrigin + performance.now()

export const meta = {
  id: 'i',
  title: `Server fan-out: ${CLIENTS.toLocaleString('en-US')} subscribers of one topic, ${RATE} publishes/s for ${SECONDS} s`,
  adapter: false,
  libraries: ['ws', 'ws-batched', 'vue-realtime', 'socket.io'],
  rounds: 5,
  peerRounds: 2,
  // Run every round, like the baseline: the limit with the batching createRealtimeServer does.
  references: ['ws-batched'],
  baseline: 'ws',
  ratios: [
    { key: 'p99', label: 'p99 × raw ws' },
    { key: 'deliveriesPerSec', label: 'deliveries/s × raw ws' },
    { key: 'p99', name: 'p99RatioBatched', baseline: 'ws-batched', label: 'p99 × ws-batched' },
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
    { key: 'serverUsPerDelivery', label: 'server CPU per delivery (µs)' },
    { key: 'clientUsPerDelivery', label: 'subscribers\' CPU per delivery (µs)' },
  ],
  note: `ws = a raw \`ws\` server sending one pre-encoded frame to every client (the limit); ws-batched = the same with each socket corked until the end of the tick, so a socket's frames of one tick leave in one write. vue-realtime: createRealtimeServer, presence off, rate limit off (the publisher sends ${RATE} frames/s, exactly the default limit), stored publishes. socket.io: a room broadcast. Server CPU = share of one core; CPU per delivery = user + system time divided by the deliveries (of the server, and of the subscribers' process), which does not depend on how loaded the machine is the way latencies do. Target: p99 ≤ 1.5× raw ws, deliveries/s equal to it.`,
}

export async function run({ library }) {
  if (library === 'vue-realtime') {
    const s = await built('server')
    if (!s.ok) throw new Skip(`vue-realtime server: ${s.reason}`)
  }
  const kind = { 'vue-realtime': 'vr', 'socket.io': 'io', ws: 'raw', 'ws-batched': 'raw-batched' }[library]
  const server = await forkServer('./fanout-server.mjs', [kind])
  // The subscribers and the publisher speak the server's protocol: a batched raw server speaks raw.
  const wire = kind === 'raw-batched' ? 'raw' : kind
  const url = kind === 'io' ? `http://127.0.0.1:${server.port}` : `ws://127.0.0.1:${server.port}/`
  const groups = []
  let pub
  try {
    const size = Math.ceil(CLIENTS / CLIENT_PROCESSES)
    for (let i = 0; i < CLIENTS; i += size) groups.push(forkServer('./fanout-clients.mjs', [wire, url, String(Math.min(size, CLIENTS - i))], 60_000))
    const clients = await Promise.all(groups)
    pub = fanoutPublisher(wire, url, 'bench:fanout')
    await pub.ready
    await sleep(200)

    const total = RATE * SECONDS
    const cpu0 = await cpuUsageOf(server)
    const clients0 = await Promise.all(clients.map((c) => ask(c, { cmd: 'count' })))
    const t0 = now()
    let sent = 0
    while (sent < total) {
      const due = Math.min(total, Math.floor(((now() - t0) / 1000) * RATE) + 1)
      for (; sent < due; sent++) pub.publish(sent, { t: now(), n: sent })
      await sleep(2)
    }
    const expected = total * CLIENTS
    const deadline = performance.now() + 10_000
    while (performance.now() < deadline) {
      await sleep(100)
      const counts = await Promise.all(clients.map((c) => ask(c, { cmd: 'count' })))
      if (counts.reduce((n, r) => n + r.delivered, 0) >= expected) break
    }
    const cpu1 = await cpuUsageOf(server)
    const reports = await Promise.all(clients.map((c) => ask(c, { cmd: 'report' })))
    const latency = mergeHistograms(reports.flatMap((r) => r.groups))
    const { delivered } = latency
    const lastAt = Math.max(...reports.map((r) => r.lastAt))
    const wall = (now() - t0) * 1000
    return {
      clients: CLIENTS,
      deliveriesPerSec: Math.round(delivered / ((lastAt - t0) / 1000)),
      deliveredPct: Math.round((delivered / expected) * 1000) / 10,
      p50: Math.round(histogramPercentile(latency, 50) * 10) / 10,
      p99: Math.round(histogramPercentile(latency, 99) * 10) / 10,
      max: Math.round(histogramPercentile(latency, 100)),
      serverCpu: Math.round(((cpu1.user + cpu1.system - cpu0.user - cpu0.system) / wall) * 100),
      serverUsPerDelivery: Math.round(((cpu1.user + cpu1.system - cpu0.user - cpu0.system) / delivered) * 100) / 100,
      clientUsPerDelivery: Math.round((reports.reduce((n, r, k) => n + r.cpu.user + r.cpu.system - clients0[k].cpu.user - clients0[k].cpu.system, 0) / delivered) * 100) / 100,
    }
  } finally {
    pub?.ws.terminate()
    await Promise.all(groups.map((g) => g.then((c) => c.stop(), () => {})))
    await server.stop()
  }
}
