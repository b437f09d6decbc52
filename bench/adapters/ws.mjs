// Raw `ws`: the ceiling. No heartbeat, no reconnect, no queue; JSON.parse + push is the consumer.
import WebSocket from 'ws'
import { createHandle, decode, rawSocketCalls } from '../lib/adapter-base.mjs'

export const name = 'ws'
export const serverKind = 'ws'
export const features = { heartbeat: false, reconnect: false, queue: false, shared: false }

export function connect(url) {
  const ws = new WebSocket(url)
  const h = createHandle()
  ws.on('open', () => h.emitOpen())
  ws.on('message', (data, isBinary) => h.emitMessage(isBinary ? data : decode(data)))
  ws.on('close', (code, reason) => h.emitClose({ code, reason: reason.toString() }))
  ws.on('error', () => {})
  return rawSocketCalls(h, ws)
}
