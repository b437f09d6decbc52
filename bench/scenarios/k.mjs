// k. Cross-node fan-out: 3 server processes on one Redis (a fresh redis-server, no
// persistence), 1,000 subscribers of one topic spread evenly across them, one publisher on
// node 1 sending 100 publishes/s for 10 s. vue-realtime: createRealtimeServer on redisEngine
// (stored, acked publishes: Lua publish, one SUBSCRIBE per topic per node). socket.io: a room
// broadcast through @socket.io/redis-adapter on the same kind of Redis. Both driven by the same
// lean raw-`ws` clients (frames by hand) in a process of their own, as in scenario i; the
// publisher stays here, so its schedule does not share a thread with 100,000 deliveries/s.
// Latency: publish sent → frame received on a subscriber of node 2 or 3 (remote to the
// publisher), on the epoch clock every process shares.
import { ask, forkServer } from '../lib/child.mjs'
import { cpuUsageOf, fanoutPublisher } from '../lib/publisher.mjs'
import { built, load, Skip } from '../lib/build.mjs'
import { histogramPercentile, mergeHistograms, sleep } from '../lib/util.mjs'

const NODES = 3
const CLIENTS = Number(process.env.BENCH_CLUSTER_CLIENTS ?? 1000)
const RATE = 100
const SECONDS = 10
const now = () => performance.timeOrigin + performance.now()

export const meta = {
  id: 'k',
  title: `Cross-node fan-out: ${NODES} server processes on one Redis, ${CLIENTS.toLocaleString('en-US')} subscribers spread across them, ${RATE} publishes/s for ${SECONDS} s`,
  adapter: false,
  rounds: 5,
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
    { key: 'nodesUsPerDelivery', label: 'nodes CPU per delivery (µs)' },
    { key: 'clientUsPerDelivery', label: 'subscribers\' CPU per delivery (µs)' },
  ],
  note: 'vue-realtime: redisEngine (Lua publish: dedupe, HINCRBY, XADD, PUBLISH), presence off, rate limit off. socket.io: @socket.io/redis-adapter over node-redis. Same raw-ws clients for both, in one process of their own; the publisher is on node 1, "remote" = subscribers of nodes 2 and 3. CPU per delivery: user + system time of the three node processes together (Redis not counted), and of the subscribers\' process, divided by the deliveries; it does not depend on how loaded the machine is the way latencies do. Everything shares 2 cores: the latencies include that contention.',
}

const TOPIC = 'bench:cluster'

export async function run({ library }) {
  if (library === 'vue-realtime') {
    const s = await built('server')
    if (!s.ok) throw new Skip(`vue-realtime server: ${s.reason}`)
  }
  const { startRedis } = await load('redis')
  const redis = await startRedis()
  const kind = library === 'vue-realtime' ? 'vr' : 'io'
  const nodes = []
  let subscribers = null
  let pub = null
  try {
    for (let i = 0; i < NODES; i++) nodes.push(await forkServer('./cluster-server.mjs', [kind, redis.url], 30_000))
    const urls = nodes.map((n) => `ws://127.0.0.1:${n.port}`)
    // Subscriber n on node n % 3: node 1 (the publisher's) holds the local third.
    subscribers = await forkServer('./fanout-clients.mjs', [kind, urls.join(','), String(CLIENTS), TOPIC], 60_000)
    pub = fanoutPublisher(kind, urls[0], TOPIC)
    await pub.ready
    await sleep(300)

    const total = RATE * SECONDS
    const cpu0 = await Promise.all(nodes.map(cpuUsageOf))
    const clients0 = await ask(subscribers, { cmd: 'count' })
    const t0 = now()
    let sent = 0
    while (sent < total) {
      const due = Math.min(total, Math.floor(((now() - t0) / 1000) * RATE) + 1)
      for (; sent < due; sent++) pub.publish(sent, { t: now(), n: sent })
      await sleep(2)
    }
    const expected = total * CLIENTS
    const deadline = performance.now() + 15_000
    while (performance.now() < deadline) {
      await sleep(100)
      if ((await ask(subscribers, { cmd: 'count' })).delivered >= expected) break
    }
    const cpu1 = await Promise.all(nodes.map(cpuUsageOf))
    const report = await ask(subscribers, { cmd: 'report' })
    const used = cpu1.reduce((sum, b, i) => sum + (b.user + b.system - cpu0[i].user - cpu0[i].system), 0)
    const clientUsed = report.cpu.user + report.cpu.system - clients0.cpu.user - clients0.cpu.system
    const { delivered } = report
    const remote = mergeHistograms(report.groups.slice(1))
    const local = mergeHistograms(report.groups.slice(0, 1))
    const round1 = (n) => (n == null ? null : Math.round(n * 10) / 10)
    const round2 = (n) => Math.round(n * 100) / 100
    return {
      clients: CLIENTS,
      deliveriesPerSec: Math.round(delivered / ((report.lastAt - t0) / 1000)),
      delivered: `${delivered.toLocaleString('en-US')} / ${expected.toLocaleString('en-US')}`,
      p50: round1(histogramPercentile(remote, 50)),
      p99: round1(histogramPercentile(remote, 99)),
      max: Math.round(histogramPercentile(remote, 100)),
      localP99: round1(histogramPercentile(local, 99)),
      nodesUsPerDelivery: round2(used / delivered),
      clientUsPerDelivery: round2(clientUsed / delivered),
    }
  } finally {
    pub?.ws.terminate()
    await subscribers?.stop()
    await Promise.all(nodes.map((n) => n.stop()))
    await redis.stop()
  }
}
