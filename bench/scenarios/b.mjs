// b. Half-open link: heartbeat interval 1000 ms / timeout 1000 ms where the library has one
// (socket.io: server pingInterval/pingTimeout 1000/1000). Once the client is open, the fault
// proxy stops forwarding both ways without closing anything (new connections pass). Measured:
// ms until the client gives up on the socket (detection) and until it is open again.
import { serverBehindProxy } from '../lib/setup.mjs'
import { closeAll, next, round, sleep } from '../lib/util.mjs'

const HEARTBEAT = { interval: 1000, timeout: 1000 }
const NO_HEARTBEAT_BOUND = 10_000
const REOPEN_BOUND = 40_000

export const meta = {
  id: 'b',
  title: 'Half-open link (heartbeat 1000/1000): detection and open again',
  libraries: ['ws', 'vue-realtime', 'vueuse', 'reconnecting-websocket', 'partysocket', 'socket.io'],
  rounds: 5,
  peerRounds: 1,
  concurrency: 10, // idle waits; jobs do not compete for CPU
  timeoutMs: 60_000,
  columns: [
    { key: 'heartbeat', label: 'heartbeat' },
    { key: 'detectMs', label: 'detected (ms)' },
    { key: 'reopenMs', label: 'open again (ms)' },
    { key: 'how', label: 'how' },
  ],
  note: `Libraries without a heartbeat are watched for ${NO_HEARTBEAT_BOUND / 1000} s; open again is bounded at ${REOPEN_BOUND / 1000} s.`,
}

export async function run({ adapter }) {
  const hasHeartbeat = Boolean(adapter.features.heartbeat)
  const env = await serverBehindProxy(adapter, { pingInterval: HEARTBEAT.interval, pingTimeout: HEARTBEAT.timeout })
  const h = adapter.connect(env.url, { heartbeat: HEARTBEAT })
  try {
    if (!(await next(h.onOpen, 10_000))) throw new Error('did not open within 10 s')
    await sleep(500)
    const t0 = performance.now()
    env.proxy.blackhole()
    const detectors = [h.onClose]
    if (h.onDetect) detectors.push(h.onDetect)
    const detected = await next((fn) => detectors.forEach((d) => d(fn)), hasHeartbeat ? REOPEN_BOUND : NO_HEARTBEAT_BOUND)
    const result = { heartbeat: hasHeartbeat ? (adapter.features.heartbeat === true ? 'yes' : adapter.features.heartbeat) : 'no heartbeat' }
    if (!detected) {
      return { ...result, detectMs: null, reopenMs: null, how: `not detected within ${(hasHeartbeat ? REOPEN_BOUND : NO_HEARTBEAT_BOUND) / 1000} s` }
    }
    result.detectMs = Math.round(detected.at - t0)
    result.detectReason = detected.reason ?? null
    const reopened = await next(h.onOpen, REOPEN_BOUND - (performance.now() - t0))
    result.reopenMs = reopened ? Math.round(performance.now() - t0) : null
    result.how = reopened ? (detected.reason ? `close: ${detected.reason}` : 'status left OPEN') : `detected, not open again within ${REOPEN_BOUND / 1000} s`
    return result
  } finally {
    await closeAll([h])
    await env.close()
  }
}

export { round }
