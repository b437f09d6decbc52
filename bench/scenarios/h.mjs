// h. Memory: heap growth after 1,000,000 messages into a consumer that keeps the last 1,000
// (vue-realtime: useWebSocket with maxMessages 1000; the others: a 1,000-slot ring in the
// message callback), gc before and after (--expose-gc); then live handles left in the process
// after close() (process.getActiveResourcesInfo(), compared with before connecting).
import { forkServer } from '../lib/child.mjs'
import { next, sleep, until } from '../lib/util.mjs'

const N = 1_000_000
const KEEP = 1000

export const meta = {
  id: 'h',
  title: `Memory: heap growth after ${N.toLocaleString('en-US')} messages (history of ${KEEP}), handles left after close()`,
  libraries: ['ws', 'vue-realtime', 'vueuse', 'reconnecting-websocket', 'partysocket', 'socket.io'],
  execArgv: ['--expose-gc'],
  timeoutMs: 90_000,
  columns: [
    { key: 'heapGrowthMB', label: 'heap growth (MB)' },
    { key: 'seconds', label: 'time (s)' },
    { key: 'handlesLeft', label: 'handles left after close()' },
  ],
}

function heap() {
  for (let i = 0; i < 3; i++) globalThis.gc()
  return process.memoryUsage().heapUsed
}

function resources() {
  const counts = {}
  for (const r of process.getActiveResourcesInfo()) counts[r] = (counts[r] ?? 0) + 1
  return counts
}

export async function run({ adapter }) {
  if (typeof globalThis.gc !== 'function') throw new Error('run with --expose-gc')
  const server = await forkServer('./push-server.mjs', [adapter.serverKind])
  try {
    const url = adapter.serverKind === 'io' ? `http://127.0.0.1:${server.port}` : `ws://127.0.0.1:${server.port}/`
    await sleep(20)
    const baseline = resources()
    const h = adapter.connect(url, { composable: true, maxMessages: KEEP })
    if (!h.api) {
      const ring = new Array(KEEP)
      let i = 0
      h.onMessage((m) => (ring[i++ % KEEP] = m))
    }
    if (!(await next(h.onOpen, 10_000))) throw new Error('did not open within 10 s')
    const push = async (n) => {
      const target = h.counters.messages + n
      h.send({ cmd: 'push', n })
      if (!(await until(() => h.counters.messages >= target, 60_000, 2))) throw new Error(`got ${h.counters.messages} of ${target} within 60 s`)
    }
    await push(20_000) // history full, code warm
    const before = heap()
    const t0 = performance.now()
    await push(N)
    const seconds = (performance.now() - t0) / 1000
    const after = heap()

    const closed = next(h.onClose, 5_000)
    h.close()
    await closed
    await sleep(300)
    const left = resources()
    const diff = Object.entries(left)
      .map(([k, v]) => [k, v - (baseline[k] ?? 0)])
      .filter(([, v]) => v > 0)
      .map(([k, v]) => `${k}×${v}`)
    return {
      heapGrowthMB: Math.round(((after - before) / 2 ** 20) * 100) / 100,
      seconds: Math.round(seconds * 10) / 10,
      handlesLeft: diff.length ? diff.join(', ') : 'none',
    }
  } finally {
    await server.stop()
  }
}
