// vue-realtime, bundled from src/ at bench start (lib/build.mjs). Two ways in:
// - default: a core `Connection` (heartbeat/reconnect/queue scenarios);
// - opts.composable: `useWebSocket` with its `messages` history (maxMessages) inside an app
//   made with `createRealtime` (so the composable finds its manager in Node), in an effectScope;
// - opts.manager: a shared `ConnectionManager` (`acquire`), for the 50-consumers scenario.
import WebSocket from 'ws'
import { createHandle } from '../lib/adapter-base.mjs'
import { load } from '../lib/build.mjs'

export const name = 'vue-realtime'
export const serverKind = 'ws'
export const features = { heartbeat: true, reconnect: true, queue: true, shared: true }

const lib = await load('client')
const vue = await import('vue')

/**
 * `BENCH_RECONNECT='{"minDelay":900}'` tries other reconnect options (for exploring schedules
 * with the real Connection, as bench/sim/herd.mjs does on paper); every committed figure uses the defaults.
 */
const reconnectOverride = process.env.BENCH_RECONNECT ? JSON.parse(process.env.BENCH_RECONNECT) : undefined

function connectionOptions(opts) {
  return {
    WebSocket,
    // `defaults`: the heartbeat users get (on); else only where the scenario asks for one.
    heartbeat: opts.heartbeat ? { interval: opts.heartbeat.interval, timeout: opts.heartbeat.timeout } : !!opts.defaults,
    reconnect: opts.reconnect === false ? false : (reconnectOverride ?? true),
  }
}

let sharedManager
export function manager() {
  sharedManager ??= new lib.ConnectionManager()
  return sharedManager
}

function wire(h, conn) {
  conn.on('open', () => h.emitOpen())
  conn.on('close', (info) => h.emitClose({ code: info?.code, reason: info?.reason }))
  conn.on('error', () => {})
}

export function connect(url, opts = {}) {
  const h = createHandle()
  if (opts.composable) {
    const app = vue.createApp({ render: () => null })
    const plugin = lib.createRealtime?.(connectionOptions(opts))
    if (plugin) app.use(plugin)
    const scope = vue.effectScope(true)
    const api = app.runWithContext(() =>
      scope.run(() =>
        lib.useWebSocket(url, {
          ...connectionOptions(opts),
          maxMessages: opts.maxMessages ?? 1000,
          onOpen: () => h.emitOpen(),
          onClose: (info) => h.emitClose({ code: info?.code, reason: info?.reason }),
          onMessage: (msg) => h.emitMessage(msg),
        }),
      ),
    )
    h.consumerCount = () => api.messages.value.length
    h.api = api
    h.send = (data) => {
      const r = api.send(data)
      h.counters.sent += 1
      return r
    }
    h.close = () => {
      api.close()
      scope.stop()
      // What `app.unmount()` does for a mounted app (this one renders nothing and is never mounted).
      plugin?.manager.closeAll()
    }
    return h
  }
  if (opts.shared) {
    const m = manager()
    const conn = m.acquire(url, connectionOptions(opts))
    wire(h, conn)
    if (conn.state?.status === 'idle') conn.open()
    h.send = (data) => conn.send(data)
    h.close = () => m.release(conn)
    return h
  }
  const conn = new lib.Connection(url, connectionOptions(opts))
  wire(h, conn)
  conn.open()
  h.conn = conn
  h.send = (data) => {
    const r = conn.send(data)
    h.counters.sent += 1
    return r
  }
  h.close = () => conn.close()
  return h
}
