// partysocket's ReconnectingWebSocket with `ws` passed as its WebSocket option; defaults otherwise (no heartbeat).
import WebSocket from 'ws'
import { WebSocket as PartyWebSocket } from 'partysocket'
import { createHandle, decode } from '../lib/adapter-base.mjs'

export const name = 'partysocket'
export const serverKind = 'ws'
export const features = { heartbeat: false, reconnect: true, queue: true, shared: false }

export function connect(url) {
  const ps = new PartyWebSocket(url, [], { WebSocket })
  const h = createHandle()
  ps.addEventListener('open', () => h.emitOpen())
  ps.addEventListener('message', (ev) => h.emitMessage(decode(ev.data)))
  ps.addEventListener('close', (ev) => h.emitClose({ code: ev.code, reason: ev.reason }))
  ps.addEventListener('error', () => {})
  h.send = (data) => {
    const open = ps.readyState === 1
    ps.send(typeof data === 'string' ? data : JSON.stringify(data))
    h.counters.sent += 1
    return open ? 'sent' : 'queued'
  }
  h.close = () => ps.close()
  return h
}
