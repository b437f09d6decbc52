// Raw `ws` through the DOM-style `onmessage` (a MessageEvent per frame, text as a string): the
// path vue-realtime and every WebSocket-shaped wrapper take. Same consumer as the `ws` adapter.
import WebSocket from 'ws'
import { createHandle, decode, rawSocketCalls } from '../lib/adapter-base.mjs'

export const name = 'ws (onmessage)'
export const serverKind = 'ws'
export const features = { heartbeat: false, reconnect: false, queue: false, shared: false }

export function connect(url) {
  const ws = new WebSocket(url)
  const h = createHandle()
  ws.onopen = () => h.emitOpen()
  ws.onmessage = (event) => h.emitMessage(typeof event.data === 'string' ? decode(event.data) : event.data)
  ws.onclose = (event) => h.emitClose({ code: event.code, reason: event.reason })
  ws.onerror = () => {}
  return rawSocketCalls(h, ws)
}
