// What vue-realtime adds to every inbound frame, layer by layer, in CPU time: scenario a's
// firehose measures the whole client (ws's framing, JSON.parse, GC) against a raw `ws`, and
// moves ±5 % from run to run on this machine, more than the library's own share. Here one
// process feeds the same ~100-byte JSON frames straight into a socket's `onmessage` (a fake
// socket, no network), in batches of 590 per macrotask (what one 64 kB read of scenario a
// holds), through:
// - bare: a handler that does the consumer's work (JSON.parse + push), the raw baseline's path;
// - Connection, heartbeat off and on (the core);
// - useWebSocket with its `messages` history (maxMessages 1000) and an `onMessage` that pushes
//   (scenario a's consumer), heartbeat on as users get it.
// The modes take turns, 40 rounds of 100,000 frames each; it prints the median ns per frame and
// what each layer adds to the bare handler.
//
//   node bench/frame-cost.mjs
import { buildAll, load } from './lib/build.mjs'
import { message } from './lib/util.mjs'

const FRAMES = 100_000
const BATCH = 590
const ROUNDS = 40

await buildAll()
const lib = await load('client')
const vue = await import('vue')

const texts = Array.from({ length: 20_000 }, (_, i) => message(i))

/** A socket the library opens at once; the driver calls its `onmessage`. */
class FakeSocket {
  static last
  readyState = 0
  bufferedAmount = 0
  protocol = ''
  extensions = ''
  binaryType = 'blob'
  constructor(url) {
    this.url = url
    FakeSocket.last = this
  }
  send() {}
  close() {
    this.readyState = 3
  }
}
const opened = () => {
  const socket = FakeSocket.last
  socket.readyState = 1
  socket.onopen()
  return socket
}

const sink = []
const nextTask = () => new Promise((resolve) => setImmediate(resolve))
async function feed(socket) {
  for (let i = 0; i < FRAMES; ) {
    const end = Math.min(FRAMES, i + BATCH)
    for (; i < end; i++) socket.onmessage({ data: texts[i % texts.length] })
    await nextTask()
  }
}

let dispose = () => {}
const MODES = {
  bare: () => ({ onmessage: (event) => sink.push(JSON.parse(event.data)) }),
  'Connection, heartbeat off': () => {
    const connection = new lib.Connection('ws://bench.invalid/', { WebSocket: FakeSocket, heartbeat: false })
    connection.on('message', (m) => sink.push(m))
    connection.open()
    dispose = () => connection.close()
    return opened()
  },
  'Connection, heartbeat on': () => {
    const connection = new lib.Connection('ws://bench.invalid/', { WebSocket: FakeSocket, heartbeat: true })
    connection.on('message', (m) => sink.push(m))
    connection.open()
    dispose = () => connection.close()
    return opened()
  },
  'useWebSocket (messages on, onMessage)': () => {
    const app = vue.createApp({ render: () => null })
    const plugin = lib.createRealtime({ WebSocket: FakeSocket })
    app.use(plugin)
    const scope = vue.effectScope(true)
    const api = app.runWithContext(() => scope.run(() => lib.useWebSocket('ws://bench.invalid/', { WebSocket: FakeSocket, maxMessages: 1000, onMessage: (m) => sink.push(m) })))
    dispose = () => {
      api.close()
      scope.stop()
      plugin.manager.closeAll()
    }
    return opened()
  },
}

const times = Object.fromEntries(Object.keys(MODES).map((name) => [name, []]))
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, setup] of Object.entries(MODES)) {
    const socket = setup()
    sink.length = 0
    const t0 = performance.now()
    await feed(socket)
    times[name].push(((performance.now() - t0) * 1e6) / FRAMES)
    dispose()
    dispose = () => {}
  }
}

const median = (values) => [...values].sort((a, b) => a - b)[values.length >> 1]
const bare = median(times.bare)
console.log(`ns per inbound frame, median of ${ROUNDS} rounds of ${FRAMES.toLocaleString('en-US')} (${BATCH} per task), Node ${process.version}\n`)
console.log('| path | ns per frame | added to bare |')
console.log('|---|---|---|')
for (const [name, values] of Object.entries(times)) {
  const ns = median(values)
  console.log(`| ${name} | ${ns.toFixed(0)} | ${name === 'bare' ? '–' : `+${(ns - bare).toFixed(0)} (${(((ns - bare) / bare) * 100).toFixed(0)} %)`} |`)
}
process.exit(0)
