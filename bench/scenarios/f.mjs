// f. Thundering herd: 300 clients in one process, all dropped at once (the proxy cuts every
// connection) and TCP refused for 500 ms (accepted and reset, so every attempt is counted at
// the server side). Measured: the peak share of all attempts in any 100 ms window, and
// p10/p50/p90 of the time each client took to be open again.
import { serverBehindProxy } from '../lib/setup.mjs'
import { closeAll, percentile, sleep, until } from '../lib/util.mjs'

const CLIENTS = 300
const DOWN_MS = 500
const WINDOW_MS = 100
const BOUND = 30_000

export const meta = {
  id: 'f',
  title: `Herd: ${CLIENTS} clients dropped at once, server back after ${DOWN_MS} ms`,
  libraries: ['vue-realtime', 'vueuse', 'reconnecting-websocket', 'partysocket', 'socket.io'],
  notApplicable: [{ library: 'ws', reason: 'no reconnect' }],
  timeoutMs: 60_000,
  columns: [
    { key: 'peakShare', label: `peak attempts in ${WINDOW_MS} ms` },
    { key: 'attempts', label: 'attempts' },
    { key: 'p10', label: 'p10 (ms)' },
    { key: 'p50', label: 'p50 (ms)' },
    { key: 'p90', label: 'p90 (ms)' },
    { key: 'reconnected', label: `back of ${CLIENTS}` },
  ],
}

export async function run({ adapter }) {
  const env = await serverBehindProxy(adapter)
  const handles = []
  try {
    for (let i = 0; i < CLIENTS; i++) handles.push(adapter.connect(env.url, {}))
    if (!(await until(() => handles.every((h) => h.counters.opens > 0), 20_000))) {
      throw new Error(`only ${handles.filter((h) => h.counters.opens > 0).length}/${CLIENTS} opened within 20 s`)
    }
    await sleep(300)
    const attemptsAt = []
    env.proxy.on('connection', () => attemptsAt.push(performance.now()))
    const backAt = new Array(CLIENTS).fill(null)
    handles.forEach((h, i) => h.onOpen(() => (backAt[i] ??= performance.now())))

    const t0 = performance.now()
    await env.proxy.refuse(true)
    env.proxy.cut()
    await sleep(DOWN_MS)
    await env.proxy.refuse(false)
    await until(() => backAt.every((t) => t != null), BOUND)

    const times = backAt.filter((t) => t != null).map((t) => t - t0)
    let peak = 0
    for (let i = 0, j = 0; i < attemptsAt.length; i++) {
      while (attemptsAt[i] - attemptsAt[j] >= WINDOW_MS) j++
      peak = Math.max(peak, i - j + 1)
    }
    return {
      peakShare: attemptsAt.length ? `${Math.round((peak / attemptsAt.length) * 100)}%` : null,
      peakAttempts: peak,
      attempts: attemptsAt.length,
      p10: Math.round(percentile(times, 10)),
      p50: Math.round(percentile(times, 50)),
      p90: Math.round(percentile(times, 90)),
      reconnected: times.length,
    }
  } finally {
    await closeAll(handles, 200)
    await env.close()
  }
}
