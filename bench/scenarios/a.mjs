// a. Inbound throughput: 200,000 ~100-byte JSON messages pushed by a server in its own process
// as fast as the socket drains; the consumer decodes each and pushes it to an array
// (vue-realtime: useWebSocket with its `messages` history on, maxMessages 1000). Median of 3
// passes after a warm-up in each job; the table is the median of the interleaved rounds. Then 1,000 identical messages: how many the consumer saw.
import { forkServer } from '../lib/child.mjs'
import { closeAll, median, next, until } from '../lib/util.mjs'

const N = 200_000
const ROUNDS = 3
const WARMUP = 5_000
const IDENTICAL = 1_000

export const meta = {
  id: 'a',
  title: `Inbound throughput (${N.toLocaleString('en-US')} × ~100-byte JSON, median of ${ROUNDS}) and ${IDENTICAL.toLocaleString('en-US')} identical messages`,
  libraries: ['ws', 'ws-onmessage', 'vue-realtime', 'vueuse', 'reconnecting-websocket', 'partysocket', 'socket.io'],
  // A job moves ±5 % from run to run on a shared 2-core machine, as much as the gap measured:
  // 11 interleaved rounds of the baselines and vue-realtime (each ~1.6 s) steady the median.
  rounds: 11,
  peerRounds: 3,
  // The DOM-style baseline runs every round too: vue-realtime takes its frames through `onmessage`.
  references: ['ws-onmessage'],
  baseline: 'ws',
  ratios: [
    { key: 'msgsPerSec', label: '× raw ws' },
    { key: 'msgsPerSec', baseline: 'ws-onmessage', name: 'msgsPerSecOnmessageRatio', label: '× raw ws onmessage' },
    // On a shared machine wall time measures the scheduler as much as the library; the client's
    // CPU time per message (its own process: the server runs in another) is the steadier figure.
    { key: 'msgsPerCpuSec', label: 'CPU × raw ws' },
    { key: 'msgsPerCpuSec', baseline: 'ws-onmessage', name: 'msgsPerCpuSecOnmessageRatio', label: 'CPU × raw ws onmessage' },
  ],
  timeoutMs: 60_000,
  columns: [
    { key: 'msgsPerSec', label: 'msgs/s' },
    { key: 'msgsPerCpuSec', label: 'msgs per client CPU-s' },
    { key: 'identicalSeen', label: `identical: seen of ${IDENTICAL}` },
    { key: 'consumer', label: 'consumer' },
  ],
  note: 'Raw ws = ws + JSON.parse + push; raw ws onmessage = the same through the DOM-style `onmessage` (a MessageEvent per frame, text as a string), the way every browser-shaped wrapper receives (vue-realtime listens to `ws`\u2019s own "message" event in Node, `onmessage` in browsers). socket.io-client runs against a socket.io server (its own framing). VueUse counts what `watch(data)` sees (its `data` ref), vue-realtime what `messages` holds. Every library runs with its defaults (vue-realtime: heartbeat on).',
}

export async function run({ adapter }) {
  const server = await forkServer('./push-server.mjs', [adapter.serverKind])
  try {
    const url = adapter.serverKind === 'io' ? `http://127.0.0.1:${server.port}` : `ws://127.0.0.1:${server.port}/`
    // Each library with its defaults (vue-realtime's heartbeat on), as users get it.
    const h = adapter.connect(url, { composable: true, maxMessages: 1000, defaults: true })
    const sink = []
    h.onMessage((m) => sink.push(m))
    if (!(await next(h.onOpen, 10_000))) throw new Error('did not open within 10 s')

    let cpuMs = 0
    const pushAndCount = async (n, identical, budgetMs) => {
      const target = h.counters.messages + n
      const t0 = performance.now()
      const cpu0 = process.cpuUsage()
      h.send({ cmd: 'push', n, identical })
      const ok = await until(() => h.counters.messages >= target, budgetMs, 1)
      const cpu = process.cpuUsage(cpu0)
      cpuMs = (cpu.user + cpu.system) / 1000
      return ok ? performance.now() - t0 : null
    }
    await pushAndCount(WARMUP, false, 10_000)
    const rates = []
    const cpuRates = []
    for (let r = 0; r < ROUNDS; r++) {
      sink.length = 0
      const ms = await pushAndCount(N, false, 15_000)
      if (ms == null) throw new Error(`round ${r + 1}: ${N} messages not received within 15 s (got ${h.counters.messages})`)
      rates.push(N / (ms / 1000))
      cpuRates.push(N / (cpuMs / 1000))
    }
    if (h.api?.clear) h.api.clear()
    const before = h.consumerCount()
    const beforeEvents = h.counters.messages
    await pushAndCount(IDENTICAL, true, 10_000)
    // Let watchers and batched triggers flush before reading the consumer's view.
    await until(() => false, 50)
    const seen = h.consumerCount() - (h.api?.clear ? 0 : before)
    await closeAll([h])
    return {
      msgsPerSec: Math.round(median(rates)),
      passes: rates.map((r) => Math.round(r)),
      msgsPerCpuSec: Math.round(median(cpuRates)),
      identicalSeen: Math.max(0, seen),
      identicalEvents: h.counters.messages - beforeEvents,
      consumer: adapter.name === '@vueuse/core' ? 'watch(data)' : adapter.name === 'vue-realtime' ? 'messages' : 'event',
    }
  } finally {
    await server.stop()
  }
}
