// f. Thundering herd: 300 clients in 4 processes, all dropped at once (the proxy cuts every
// connection, or the server restarts: 1012). Five variants: cut with the server ready at once,
// refusing for 500 ms, refusing for 2 s; a restart refusing for 500 ms or 2 s
// (refused = accepted and reset, so every attempt reaches the server's accept path). The server
// and its proxy run in their own process and timestamp each attempt as they accept it.
// Measured: the most attempts in any 100 ms window (refused included) as a share of the
// CLIENTS (the load the server sees does not shrink because clients make more attempts), total
// and refused attempts, and p10/p50/p90 of the time each client took to be open again.
import { ask, forkServer } from '../lib/child.mjs'
import { percentile, round, sleep } from '../lib/util.mjs'

const CLIENTS = 300
const WINDOW_MS = 100
const BOUND = 30_000
/** Client processes the herd is split over (see lib/herd-clients.mjs). */
const PROCESSES = 4

export const meta = {
  id: 'f',
  title: `Herd: ${CLIENTS} clients dropped at once; peak = most attempts in any ${WINDOW_MS} ms, refused included, as a share of the ${CLIENTS} clients`,
  libraries: ['vue-realtime', 'vue-realtime-server', 'vueuse', 'reconnecting-websocket', 'partysocket', 'socket.io'],
  notApplicable: [{ library: 'ws', reason: 'no reconnect' }],
  variants: [
    // Cut: no close frame, so nothing can tell a client when to come back (vue-realtime-server
    // would only repeat vue-realtime's row).
    { id: 'ready', label: 'server ready at once', refuseMs: 0, exclude: ['vue-realtime-server'] },
    { id: 'refused-500ms', label: 'refused for 500 ms', refuseMs: 500, exclude: ['vue-realtime-server'] },
    { id: 'refused-2s', label: 'refused for 2 s', refuseMs: 2000, exclude: ['vue-realtime-server'] },
    // A planned restart: every connection closed with 1012 (vue-realtime-server: `server.close()`,
    // each client with its retry hint), then refused.
    { id: 'restart-500ms', label: 'restart (1012), refused for 500 ms', refuseMs: 500, code: 1012 },
    { id: 'restart-2s', label: 'restart (1012), refused for 2 s', refuseMs: 2000, code: 1012 },
  ],
  rounds: 5,
  peerRounds: 1, // their schedules have little or no randomness
  baseline: 'socket.io',
  ratios: [{ key: 'peakAttempts', label: 'peak × socket.io' }],
  timeoutMs: 60_000,
  columns: [
    { key: 'peakAttempts', label: `peak per ${WINDOW_MS} ms` },
    { key: 'peakOfClients', label: 'peak / clients', format: (v) => `${v} %` },
    { key: 'attempts', label: 'attempts' },
    { key: 'refused', label: 'refused' },
    { key: 'p10', label: 'p10 (ms)' },
    { key: 'p50', label: 'p50 (ms)' },
    { key: 'p90', label: 'p90 (ms)' },
    { key: 'reconnected', label: `back of ${CLIENTS}` },
  ],
  note: `Medians of the rounds. Peak / clients = peak attempts per ${WINDOW_MS} ms ÷ ${CLIENTS}. Targets: peak ≤ 45 (15 %) in every variant; p90 ≤ 1,000 ms ready at once, ≤ 1,500 ms after 500 ms of refusal.`,
}

/** Largest number of timestamps in any window of WINDOW_MS (sliding). */
export function peakPerWindow(times) {
  const sorted = [...times].sort((a, b) => a - b)
  let peak = 0
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i] - sorted[j] >= WINDOW_MS) j++
    peak = Math.max(peak, i - j + 1)
  }
  return peak
}

function histogram(offsets) {
  const counts = []
  for (const t of offsets) {
    const k = Math.max(0, Math.floor(t / WINDOW_MS))
    while (counts.length <= k) counts.push(0)
    counts[k]++
  }
  return counts
}

export async function run({ library, adapter, variant }) {
  const server = await forkServer('./herd-server.mjs', [adapter.serverKind])
  const groups = []
  try {
    const size = Math.ceil(CLIENTS / PROCESSES)
    for (let i = 0; i < CLIENTS; i += size) groups.push(forkServer('./herd-clients.mjs', [library, server.url, String(Math.min(size, CLIENTS - i))], 30_000))
    const clients = await Promise.all(groups)
    const failed = clients.find((c) => c.error)
    if (failed) throw new Error(failed.error)
    // Let the initial connects settle (and any post-open traffic such as socket.io's handshake).
    await sleep(300)
    await Promise.all(clients.map((c) => ask(c, { cmd: 'watch' })))

    const { t0 } = await ask(server, { cmd: 'down', refuseMs: variant.refuseMs, code: variant.code })
    let backAt = []
    const deadline = performance.now() + BOUND
    while (performance.now() < deadline) {
      await sleep(100)
      backAt = (await Promise.all(clients.map((c) => ask(c, { cmd: 'report' })))).flatMap((r) => r.backAt)
      if (backAt.every((t) => t != null)) break
    }
    const { attempts } = await ask(server, { cmd: 'attempts' })
    for (const c of clients) c.send({ cmd: 'close' })

    const times = backAt.filter((t) => t != null).map((t) => t - t0)
    const peak = peakPerWindow(attempts.map((a) => a.at))
    return {
      peakAttempts: peak,
      peakOfClients: round((peak / CLIENTS) * 100, 1),
      attempts: attempts.length,
      refused: attempts.filter((a) => a.refused).length,
      p10: Math.round(percentile(times, 10)),
      p50: Math.round(percentile(times, 50)),
      p90: Math.round(percentile(times, 90)),
      reconnected: times.length,
      // Attempts per 100 ms from the drop (the shape behind the peak).
      histogram: histogram(attempts.map((a) => a.at - t0)),
    }
  } finally {
    await Promise.all(groups.map((g) => g.then((c) => c.stop(), () => {})))
    await server.stop()
  }
}
