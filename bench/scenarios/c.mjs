// c. Server restart, a lone client: the server closes its connection with 1012 (socket.io:
// drops the transport; vue-realtime-server: vue-realtime's own server restarts, its close carrying
// a retry hint) and refuses TCP for 1 s (the fault proxy accepts and resets, counting
// each attempt). A fresh client per run; LANES independent server+client pairs run side by
// side (idle waits) so each job gives LANES × RUNS samples. Measured: ms until open again and
// attempts made (the successful one included).
import { closeEvery } from '../lib/servers.mjs'
import { serverBehindProxy } from '../lib/setup.mjs'
import { closeAll, median, next, sleep } from '../lib/util.mjs'

const LANES = 6
const RUNS = 3
const REFUSE_MS = 1000
const BOUND = 15_000

export const meta = {
  id: 'c',
  title: `Server restart (close 1012, TCP refused for ${REFUSE_MS} ms), a lone client: open again`,
  libraries: ['vue-realtime', 'vue-realtime-server', 'vueuse', 'reconnecting-websocket', 'partysocket', 'socket.io'],
  notApplicable: [{ library: 'ws', reason: 'no reconnect' }],
  rounds: 5,
  concurrency: 10, // idle waits; jobs do not compete for CPU
  baseline: 'socket.io',
  ratios: [{ key: 'medianMs', label: 'median × socket.io' }],
  timeoutMs: 90_000,
  columns: [
    { key: 'medianMs', label: 'open again, median (ms)' },
    { key: 'p90Ms', label: 'p90 (ms)' },
    { key: 'attempts', label: 'attempts per run, median' },
    { key: 'samples', label: 'samples' },
  ],
  note: `${LANES} × ${RUNS} restarts per job, every round pooled. Target: median ≤ 1,500 ms.`,
}

async function lane(adapter) {
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
        await closeEvery(env.server, 1012)
        const back = setTimeout(() => env.proxy.refuse(false), REFUSE_MS)
        const reopened = await next(h.onOpen, BOUND)
        clearTimeout(back)
        await env.proxy.refuse(false)
        times.push(reopened ? reopened.at - t0 : Infinity)
        attempts.push(env.proxy.totalConnections - before)
      } finally {
        await closeAll([h])
      }
    }
  } finally {
    await env.close()
  }
  return { times, attempts }
}

/** Every sample of every round counts: the median of all of them, not a median of medians. */
export function aggregate(runs) {
  return summarize({ timesMs: runs.flatMap((r) => r.timesMs), attemptsEach: runs.flatMap((r) => r.attemptsEach) })
}

export async function run({ adapter }) {
  const lanes = await Promise.all(Array.from({ length: LANES }, () => lane(adapter)))
  const timesMs = lanes.flatMap((l) => l.times).map((t) => (Number.isFinite(t) ? Math.round(t) : null))
  const attemptsEach = lanes.flatMap((l) => l.attempts)
  return summarize({ timesMs, attemptsEach })
}

/** The row from the samples (also applied to every round's samples pooled). */
export function summarize({ timesMs, attemptsEach }) {
  const back = timesMs.map((t) => t ?? Infinity)
  const sorted = [...back].sort((a, b) => a - b)
  const p90 = sorted[Math.ceil(0.9 * sorted.length) - 1]
  return {
    medianMs: median(back),
    p90Ms: Number.isFinite(p90) ? p90 : `>${BOUND}`,
    attempts: median(attemptsEach),
    samples: timesMs.length,
    timesMs,
    attemptsEach,
  }
}
