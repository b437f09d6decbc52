// reconnecting-websocket 4 with `ws` as its WebSocket; library defaults otherwise (it has no heartbeat).
import WebSocket from 'ws'
import ReconnectingWebSocket from 'reconnecting-websocket'
import { createHandle, decode } from '../lib/adapter-base.mjs'

export const name = 'reconnecting-websocket'
export const serverKind = 'ws'
export const features = { heartbeat: false, reconnect: true, queue: true, shared: false }

export function connect(url) {
  const rws = new ReconnectingWebSocket(url, [], { WebSocket })
  const h = createHandle()
  rws.addEventListener('open', () => h.emitOpen())
  rws.addEventListener('message', (ev) => h.emitMessage(decode(ev.data)))
  rws.addEventListener('close', (ev) => h.emitClose({ code: ev.code, reason: ev.reason }))
  rws.addEventListener('error', () => {})
  h.send = (data) => {
    const open = rws.readyState === 1
    rws.send(typeof data === 'string' ? data : JSON.stringify(data))
    h.counters.sent += 1
    return open ? 'sent' : 'queued'
  }
  h.close = () => rws.close()
  h.retryCount = () => rws.retryCount
  return h
}
