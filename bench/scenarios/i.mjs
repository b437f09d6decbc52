// i. Server fan-out: 1,000 subscribers of one topic, 100 publishes/s for 10 s, server in its
// own process. Both servers are driven by the same lean raw-`ws` clients (the protocol frames
// by hand: vue-realtime v1 JSON envelopes; socket.io's engine.io v4 packets), so the client
// side costs the same and the servers are what differs. Latency: publish sent → frame
// received, one clock (publisher and subscribers share this process).
import WebSocket from 'ws'
import { forkServer } from '../lib/child.mjs'
import { built, Skip } from '../lib/build.mjs'
import { percentile, sleep, until } from '../lib/util.mjs'

const CLIENTS = Number(process.env.BENCH_FANOUT_CLIENTS ?? 1000)
const RATE = 100
const SECONDS = 10
const CONNECT_BATCH = 100

export const meta = {
  id: 'i',
  title: `Server fan-out: ${CLIENTS.toLocaleString('en-US')} subscribers of one topic, ${RATE} publishes/s for ${SECONDS} s`,
  adapter: false,
  libraries: ['vue-realtime', 'socket.io'],
  timeoutMs: 90_000,
  columns: [
    { key: 'clients', label: 'subscribers' },
    { key: 'deliveriesPerSec', label: 'deliveries/s' },
    { key: 'delivered', label: 'delivered' },
    { key: 'p50', label: 'p50 (ms)' },
    { key: 'p99', label: 'p99 (ms)' },
    { key: 'max', label: 'max (ms)' },
    { key: 'serverCpu', label: 'server CPU' },
    { key: 'clientCpu', label: 'client CPU' },
  ],
  note: 'vue-realtime: createRealtimeServer, presence off, rate limit off (the publisher sends 100 frames/s, exactly the default limit), stored publishes. socket.io: a room broadcast. Same raw-ws clients for both. CPU = share of one core during the run; a client process near 100% means latency is partly the clients\' own queueing.',
}

/** The publish time carried in a frame's data ({ t, n }), without a full JSON.parse. */
function stamp(text) {
  const i = text.indexOf('"t":')
  return i === -1 ? NaN : parseFloat(text.slice(i + 4, i + 30))
}

/** vue-realtime protocol client: subscribe, count `message` frames. */
function vrClient(url, onData) {
  const ws = new WebSocket(url, ['vue-realtime.v1'])
  const ready = new Promise((resolve, reject) => {
    ws.on('error', reject)
    ws.on('message', (raw) => {
      const text = raw.toString()
      // Hot path: read the timestamp without parsing the whole frame (keeps the clients' cost low).
      if (text.startsWith('{"type":"message"')) return onData(stamp(text))
      const f = JSON.parse(text)
      if (f.type === 'welcome' && onData) ws.send(JSON.stringify({ type: 'subscribe', topic: 'bench:fanout' }))
      else if (f.type === 'welcome') resolve()
      else if (f.type === 'subscribed') resolve()
    })
  })
  return {
    ws,
    ready,
    publish: (n, data) => ws.send(JSON.stringify({ type: 'publish', topic: 'bench:fanout', id: `p-${n}`, data })),
  }
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
  const kind = library === 'vue-realtime' ? 'vr' : 'io'
  const server = await forkServer('./fanout-server.mjs', [kind])
  const make = kind === 'vr' ? vrClient : ioClient
  const url = kind === 'vr' ? `ws://127.0.0.1:${server.port}/` : `http://127.0.0.1:${server.port}`.replace('http', 'ws')
  const latencies = []
  let delivered = 0
  let lastAt = 0
  const onData = (t) => {
    const now = performance.now()
    delivered += 1
    lastAt = now
    latencies.push(now - t)
  }
  const clients = []
  try {
    for (let i = 0; i < CLIENTS; i += CONNECT_BATCH) {
      const batch = []
      for (let k = i; k < Math.min(CLIENTS, i + CONNECT_BATCH); k++) batch.push(make(url, onData))
      clients.push(...batch)
      await Promise.all(batch.map((c) => c.ready))
    }
    const publisher = make(url, null)
    clients.push(publisher)
    await publisher.ready
    await sleep(200)

    const total = RATE * SECONDS
    const serverCpu0 = await serverCpu(server)
    const clientCpu0 = process.cpuUsage()
    const t0 = performance.now()
    let sent = 0
    while (sent < total) {
      const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * RATE) + 1)
      for (; sent < due; sent++) publisher.publish(sent, { t: performance.now(), n: sent })
      await sleep(2)
    }
    const expected = total * CLIENTS
    await until(() => delivered >= expected, 10_000, 10)
    const seconds = (lastAt - t0) / 1000
    const wall = (performance.now() - t0) * 1000
    const busy = (a, b) => `${Math.round(((b.user + b.system - a.user - a.system) / wall) * 100)}%`
    const serverCpu1 = await serverCpu(server)
    return {
      clients: CLIENTS,
      deliveriesPerSec: Math.round(delivered / seconds),
      delivered: `${delivered.toLocaleString('en-US')} / ${expected.toLocaleString('en-US')}`,
      p50: Math.round(percentile(latencies, 50) * 10) / 10,
      p99: Math.round(percentile(latencies, 99) * 10) / 10,
      max: Math.round(percentile(latencies, 100)),
      serverCpu: busy(serverCpu0, serverCpu1),
      clientCpu: busy(clientCpu0, process.cpuUsage()),
    }
  } finally {
    for (const c of clients) c.ws.terminate()
    await server.stop()
  }
}
