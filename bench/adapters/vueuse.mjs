// VueUse's useWebSocket (@vueuse/core 14) in Node: `globalThis.WebSocket = ws` and a minimal
// window/document (lib/dom-shim.mjs) so VueUse takes its browser path, inside an effectScope.
// autoReconnect on (its default is off), heartbeat as the scenario asks (ping → pong).
// The idiomatic consumer reads `data`: consumerCount() counts what `watch(data)` saw.
// vue first: runtime-dom probes `document` at load and must see plain Node.
import { effectScope, watch } from 'vue'
import '../lib/dom-shim.mjs'
import { createHandle, decode } from '../lib/adapter-base.mjs'

const { useWebSocket } = await import('@vueuse/core')

export const name = '@vueuse/core'
export const serverKind = 'ws'
export const features = { heartbeat: true, reconnect: true, queue: true, shared: false }

export function connect(url, opts = {}) {
  const h = createHandle()
  const scope = effectScope(true)
  let watched = 0
  const api = scope.run(() => {
    const api = useWebSocket(url, {
      autoReconnect: opts.reconnect !== false,
      heartbeat: opts.heartbeat
        ? { message: 'ping', responseMessage: 'pong', interval: opts.heartbeat.interval, pongTimeout: opts.heartbeat.timeout }
        : false,
      onConnected: () => h.emitOpen(),
      onDisconnected: (_ws, ev) => h.emitClose({ code: ev.code, reason: ev.reason }),
      onMessage: (_ws, ev) => h.emitMessage(decode(ev.data)),
      onError: () => {},
    })
    watch(api.data, () => (watched += 1))
    // Status leaving OPEN is the moment VueUse gives up on a socket (its heartbeat sets it at
    // once; the socket's own close event only follows the closing handshake).
    watch(api.status, (s, prev) => prev === 'OPEN' && s !== 'OPEN' && h.emitStatusLeftOpen?.(), { flush: 'sync' })
    return api
  })
  h.consumerCount = () => watched
  h.send = (data) => {
    const open = api.status.value === 'OPEN'
    api.send(typeof data === 'string' ? data : JSON.stringify(data))
    h.counters.sent += 1
    return open ? 'sent' : 'queued'
  }
  h.close = () => {
    api.close()
    scope.stop()
  }
  h.onDetect = (fn) => (h.emitStatusLeftOpen = () => fn({ at: performance.now() }))
  return h
}
