// Subscribers of scenarios i and k in a process of their own:
//   node fanout-clients.mjs <kind> <url[,url...]> <count> [topic]
// (kind: vr | io | raw). Client n connects to the n-th url round robin (k: one url per node).
// Lean raw-`ws` clients that speak each server's protocol by hand, so the client side costs the
// same for every server. Latency = receive time − the publish time carried in the frame, on the
// epoch clock every process shares; kept per url as a histogram (0.05 ms buckets).
// IPC: tells { ready } once every client is subscribed; { cmd: 'count' } → { delivered, cpu } (cheap,
// for polling); { cmd: 'report' } → { delivered, lastAt, groups: [{ delivered, histogram, overflow }] (one per url), cpu }.
import WebSocket from 'ws'

const [kind, urlsArg, countArg, topic = 'bench:fanout'] = process.argv.slice(2)
const urls = urlsArg.split(',')
const count = Number(countArg)
const BUCKET_MS = 0.05
const BUCKETS = 40_000 // up to 2 s
const groups = urls.map(() => ({ delivered: 0, histogram: new Uint32Array(BUCKETS), overflow: [] }))
let delivered = 0
let lastAt = 0
const now = () => performance.timeOrigin + performance.now()

/** The publish time carried in a frame's data ({ t, n }), without a full JSON.parse. */
function stamp(text) {
  const i = text.indexOf('"t":')
  return i === -1 ? NaN : parseFloat(text.slice(i + 4, i + 30))
}

function record(group, text) {
  lastAt = now()
  const latency = lastAt - stamp(text)
  delivered++
  group.delivered++
  const k = Math.floor(latency / BUCKET_MS)
  if (k >= 0 && k < BUCKETS) group.histogram[k]++
  else group.overflow.push(latency)
}

function connect(n) {
  const url = urls[n % urls.length]
  const group = groups[n % urls.length]
  if (kind === 'io') {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws').replace(/\/$/, '')}/socket.io/?EIO=4&transport=websocket`)
    return new Promise((resolve, reject) => {
      ws.on('error', reject)
      ws.on('message', (raw) => {
        const t = raw.toString()
        if (t === '2') return ws.send('3')
        if (t[0] === '0') return ws.send('40')
        if (t.startsWith('40')) return resolve(ws)
        if (t.startsWith('42')) record(group, t)
      })
    })
  }
  if (kind === 'raw') {
    const ws = new WebSocket(url)
    return new Promise((resolve, reject) => {
      ws.on('error', reject)
      ws.on('open', () => resolve(ws))
      ws.on('message', (raw) => record(group, raw.toString()))
    })
  }
  const ws = new WebSocket(url, ['vue-realtime.v1'])
  return new Promise((resolve, reject) => {
    ws.on('error', reject)
    ws.on('message', (raw) => {
      const text = raw.toString()
      // Hot path: read the timestamp without parsing the whole frame (keeps the clients' cost low).
      if (text.startsWith('{"type":"message"')) return record(group, text)
      const f = JSON.parse(text)
      if (f.type === 'welcome') ws.send(JSON.stringify({ type: 'subscribe', topic }))
      else if (f.type === 'subscribed') resolve(ws)
    })
  })
}

const sockets = []
for (let i = 0; i < count; i += 100) sockets.push(...(await Promise.all(Array.from({ length: Math.min(100, count - i) }, (_, k) => connect(i + k)))))
const cpu0 = process.cpuUsage()
process.send({ ready: sockets.length })
process.on('message', (m) => {
  if (m.cmd === 'count') return process.send({ delivered, cpu: process.cpuUsage(cpu0) })
  if (m.cmd !== 'report') return
  const out = groups.map((g) => ({ delivered: g.delivered, histogram: Array.from(g.histogram), overflow: g.overflow }))
  process.send({ delivered, lastAt, groups: out, cpu: process.cpuUsage(cpu0) })
})
process.on('disconnect', () => process.exit(0))
