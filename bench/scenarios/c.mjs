// c. Server restart: the server closes every connection with 1012 (socket.io: drops the
// transport) and refuses TCP for 1 s (the fault proxy accepts and resets, counting each
// attempt). A fresh client per run, 3 runs: ms until open again and attempts made (the
// successful one included).
import { serverBehindProxy } from '../lib/setup.mjs'
import { closeAll, median, next, sleep } from '../lib/util.mjs'

const RUNS = 7
const REFUSE_MS = 1000
const BOUND = 15_000

export const meta = {
  id: 'c',
  title: `Server restart (close 1012, TCP refused for ${REFUSE_MS} ms): open again, median of ${RUNS}`,
  libraries: ['vue-realtime', 'vueuse', 'reconnecting-websocket', 'partysocket', 'socket.io'],
  notApplicable: [{ library: 'ws', reason: 'no reconnect' }],
  concurrency: 3,
  timeoutMs: 90_000,
  columns: [
    { key: 'medianMs', label: 'open again, median (ms)' },
    { key: 'runsMs', label: 'runs (ms)' },
    { key: 'attempts', label: 'attempts per run' },
  ],
}

export async function run({ adapter }) {
  const env = await serverBehindProxy(adapter)
  const times = []
  const attempts = []
  try {
    for (let r = 0; r < RUNS; r++) {
      const h = adapter.connect(env.url, {})
      try {
        if (!(await next(h.onOpen, 10_000))) throw new Error('did not open within 10 s')
        await sleep(200)
        const before = env.proxy.totalConnections
        const t0 = performance.now()
        await env.proxy.refuse(true)
        for (const peer of env.server.peers) peer.close(1012, 'service restart')
        const back = setTimeout(() => env.proxy.refuse(false), REFUSE_MS)
        const reopened = await next(h.onOpen, BOUND)
        clearTimeout(back)
        await env.proxy.refuse(false)
        times.push(reopened ? Math.round(reopened.at - t0) : null)
        attempts.push(env.proxy.totalConnections - before)
      } finally {
        await closeAll([h])
      }
    }
  } finally {
    await env.close()
  }
  const ok = times.filter((t) => t != null)
  return {
    medianMs: ok.length === RUNS ? median(ok) : null,
    runsMs: times.map((t) => (t == null ? `>${BOUND}` : t)).join(', '),
    attempts: attempts.join(', '),
  }
}
