// The fan-out's cost per delivery, free of the machine's load: the servers of scenario i in
// lockstep (each publish goes out once every subscriber has the previous one, so a server
// handles exactly one publish at a time: no backlog, no batching across publishes).
//   node bench/fanout-cost.mjs [--servers ws,ws-batched,vue-realtime,socket.io] [--clients 1000] [--publishes 300]
//     CPU time (user, system) of the server process per delivery.
//   node bench/fanout-cost.mjs --callgrind [--servers ...]
//     user-space instructions per delivery under valgrind's callgrind (repeatable to a few %,
//     whatever else the machine runs): 200 subscribers, (Ir after 250 publishes − Ir after 50) / 40,000.
// vue-realtime is bundled from src/ first, as bench/run.mjs does.
import { fork } from 'node:child_process'
import { readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import WebSocket from 'ws'
import { buildAll } from './lib/build.mjs'

const KINDS = { ws: 'raw', 'ws-batched': 'raw-batched', 'vue-realtime': 'vr', 'socket.io': 'io' }
const TOPIC = 'bench:fanout'
const WARMUP = 50

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`)
  return i === -1 ? fallback : process.argv[i + 1]
}
const callgrind = process.argv.includes('--callgrind')
const servers = arg('servers', Object.keys(KINDS).join(',')).split(',')

/** One lockstep run against a fresh server process; `valgrindOut` runs it under callgrind. */
async function lockstep(library, clients, publishes, valgrindOut) {
  const kind = KINDS[library]
  if (!kind) throw new Error(`unknown server "${library}"; one of ${Object.keys(KINDS).join(', ')}`)
  const wire = kind === 'raw-batched' ? 'raw' : kind
  const options = { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] }
  if (valgrindOut) Object.assign(options, { execPath: 'valgrind', execArgv: ['-q', '--tool=callgrind', '--smc-check=all-non-file', `--callgrind-out-file=${valgrindOut}`, process.execPath, '--single-threaded'] })
  const child = fork(new URL('./lib/fanout-server.mjs', import.meta.url).pathname, [kind], options)
  const exited = new Promise((resolve) => child.once('exit', resolve))
  const sockets = []
  try {
    const { port } = await new Promise((resolve, reject) => {
      child.once('message', resolve)
      child.once('exit', (code) => reject(new Error(`the ${library} server exited (${code}) before listening${valgrindOut ? '; is valgrind installed (apt-get install valgrind)?' : ''}`)))
    })
    const cpu = () => new Promise((resolve) => { child.once('message', (m) => resolve(m.cpu)); child.send('cpu') })
    const url = wire === 'io' ? `ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket` : `ws://127.0.0.1:${port}/`
    let delivered = 0
    let waiting = null
    const got = () => {
      delivered++
      if (waiting && delivered >= waiting.until) waiting.resolve()
    }
    const connect = (isPublisher) => {
      if (wire === 'io') {
        const ws = new WebSocket(url + (isPublisher ? '&role=publisher' : ''))
        return new Promise((resolve, reject) => {
          ws.on('error', reject)
          ws.on('message', (raw) => {
            const t = raw.toString()
            if (t === '2') ws.send('3')
            else if (t[0] === '0') ws.send('40')
            else if (t.startsWith('40')) resolve(ws)
            else if (t.startsWith('42')) got()
          })
        })
      }
      if (wire === 'raw') {
        const ws = new WebSocket(isPublisher ? `${url}?role=publisher` : url)
        return new Promise((resolve, reject) => {
          ws.on('error', reject)
          ws.on('open', () => resolve(ws))
          ws.on('message', got)
        })
      }
      const ws = new WebSocket(url, ['vue-realtime.v1'])
      return new Promise((resolve, reject) => {
        ws.on('error', reject)
        ws.on('message', (raw) => {
          const t = raw.toString()
          if (t.startsWith('{"type":"message"')) return got()
          const f = JSON.parse(t)
          if (f.type === 'welcome' && isPublisher) resolve(ws)
          else if (f.type === 'welcome') ws.send(JSON.stringify({ type: 'subscribe', topic: TOPIC }))
          else if (f.type === 'subscribed') resolve(ws)
        })
      })
    }
    for (let i = 0; i < clients; i += 50) sockets.push(...(await Promise.all(Array.from({ length: Math.min(50, clients - i) }, () => connect(false)))))
    const publisher = await connect(true)
    sockets.push(publisher)
    const publish = async (n) => {
      const done = new Promise((resolve) => (waiting = { until: delivered + clients, resolve }))
      const data = { t: Date.now(), n }
      if (wire === 'io') publisher.send(`42${JSON.stringify(['pub', data])}`)
      else if (wire === 'raw') publisher.send(JSON.stringify(data))
      else publisher.send(JSON.stringify({ type: 'publish', topic: TOPIC, id: `p-${n}`, data }))
      await done
    }
    for (let n = 0; n < WARMUP; n++) await publish(n)
    const c0 = await cpu()
    const d0 = delivered
    for (let n = 0; n < publishes; n++) await publish(WARMUP + n)
    const c1 = await cpu()
    const d = delivered - d0
    return { user: (c1.user - c0.user) / d, system: (c1.system - c0.system) / d }
  } finally {
    for (const ws of sockets) ws.terminate()
    child.disconnect()
    await exited
  }
}

const instructions = (file) => Number(/^(?:summary|totals): (\d+)/m.exec(readFileSync(file, 'utf8'))?.[1])
const r2 = (n) => Math.round(n * 100) / 100

if (servers.includes('vue-realtime') && !(await buildAll()).server.ok) throw new Error('the vue-realtime server bundle could not be built from src/')
if (callgrind) {
  const dir = os.tmpdir()
  console.log('| server | instructions per delivery (user space) |\n|---|---|')
  for (const library of servers) {
    const files = [50, 250].map((n) => path.join(dir, `fanout-cost-${process.pid}-${library}-${n}.out`))
    await lockstep(library, 200, 50, files[0])
    await lockstep(library, 200, 250, files[1])
    console.log(`| ${library} | ${Math.round((instructions(files[1]) - instructions(files[0])) / (200 * 200)).toLocaleString('en-US')} |`)
    for (const f of files) rmSync(f, { force: true })
  }
} else {
  const clients = Number(arg('clients', 1000))
  const publishes = Number(arg('publishes', 300))
  console.log(`lockstep, ${clients} subscribers, ${publishes} publishes; load average ${os.loadavg().map((l) => l.toFixed(2)).join(' / ')}\n`)
  console.log('| server | CPU per delivery (µs) | user | system |\n|---|---|---|---|')
  for (const library of servers) {
    const { user, system } = await lockstep(library, clients, publishes)
    console.log(`| ${library} | ${r2(user + system)} | ${r2(user)} | ${r2(system)} |`)
  }
}
