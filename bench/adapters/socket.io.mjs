// socket.io-client 4 over its websocket transport only (no long-polling), against a socket.io
// server. Its heartbeat is server-driven (pingInterval/pingTimeout, set by the scenario's server);
// `io(url)` without forceNew shares one Manager (one TCP connection) per URL.
import { io } from 'socket.io-client'
import { createHandle } from '../lib/adapter-base.mjs'

export const name = 'socket.io-client'
export const serverKind = 'io'
export const features = { heartbeat: 'server-driven', reconnect: true, queue: true, shared: true }

export function connect(url, opts = {}) {
  const socket = io(url, { transports: ['websocket'], forceNew: !opts.shared, reconnection: opts.reconnect !== false })
  const h = createHandle()
  socket.on('connect', () => h.emitOpen())
  socket.on('m', (msg) => h.emitMessage(msg))
  socket.on('disconnect', (reason) => h.emitClose({ code: null, reason }))
  socket.on('connect_error', () => {})
  h.send = (data) => {
    const open = socket.connected
    socket.emit('m', data)
    h.counters.sent += 1
    return open ? 'sent' : 'queued'
  }
  h.close = () => {
    socket.disconnect()
    // With forceNew the Manager is this socket's own: close its engine too (no reconnect timers left).
    if (!opts.shared) socket.io.engine?.close()
  }
  h.socket = socket
  return h
}
