// A share of scenario i's subscribers in its own process: `node fanout-clients.mjs <kind> <url> <count>`
// (kind: vr | io | raw). Lean raw-`ws` clients that speak each server's protocol by hand, so the
// client side costs the same for every server. Latency = receive time − the publish time carried
// in the frame, on the epoch clock every process shares; kept as a histogram (0.05 ms buckets).
// IPC: tells { ready } once every client is subscribed; { cmd: 'report' } → { delivered, lastAt, histogram, overflow, cpu }.
import WebSocket from 'ws'

const [kind, url, countArg] = process.argv.slice(2)
const count = Number(countArg)
const BUCKET_MS = 0.05
const BUCKETS = 40_000 // up to 2 s
const histogram = new Uint32Array(BUCKETS)
const overflow = []
let delivered = 0
let lastAt = 0
const now = () => performance.timeOrigin + performance.now()

/** The publish time carried in a frame's data ({ t, n }), without a full JSON.parse. */
function stamp(text) {
  const i = text.indexOf('"t":')
  return i === -1 ? NaN : parseFloat(text.slice(i + 4, i + 30))
}

function record(text) {
  lastAt = now()
  const latency = lastAt - stamp(text)
  delivered++
  const k = Math.floor(latency / BUCKET_MS)
  if (k >= 0 && k < BUCKETS) histogram[k]++
  else overflow.push(latency)
}

function connect() {
  if (kind === 'io') {
    const ws = new WebSocket(`${url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`)
    return new Promise((resolve, reject) => {
      ws.on('error', reject)
      ws.on('message', (raw) => {
        const t = raw.toString()
        if (t === '2') return ws.send('3')
        if (t[0] === '0') return ws.send('40')
        if (t.startsWith('40')) return resolve(ws)
        if (t.startsWith('42')) record(t)
      })
    })
  }
  if (kind === 'raw') {
    const ws = new WebSocket(url)
    return new Promise((resolve, reject) => {
      ws.on('error', reject)
      ws.on('open', () => resolve(ws))
      ws.on('message', (raw) => record(raw.toString()))
    })
  }
  const ws = new WebSocket(url, ['vue-realtime.v1'])
  return new Promise((resolve, reject) => {
    ws.on('error', reject)
    ws.on('message', (raw) => {
      const text = raw.toString()
      // Hot path: read the timestamp without parsing the whole frame (keeps the clients' cost low).
      if (text.startsWith('{"type":"message"')) return record(text)
      const f = JSON.parse(text)
      if (f.type === 'welcome') ws.send(JSON.stringify({ type: 'subscribe', topic: 'bench:fanout' }))
      else if (f.type === 'subscribed') resolve(ws)
    })
  })
}

const sockets = []
for (let i = 0; i < count; i += 100) sockets.push(...(await Promise.all(Array.from({ length: Math.min(100, count - i) }, connect))))
const cpu0 = process.cpuUsage()
process.send({ ready: sockets.length })
process.on('message', (m) => {
  if (m.cmd === 'report') process.send({ delivered, lastAt, histogram: Array.from(histogram), overflow, cpu: process.cpuUsage(cpu0) })
})
process.on('disconnect', () => process.exit(0))
