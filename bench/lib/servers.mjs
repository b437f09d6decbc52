// Loopback servers for the jobs: a `ws` server and a socket.io server behind one interface,
//   { port, url(), peers: Set<peer>, received: [], close() }, peer = { send(msg), close(code), terminate() }.
// Both answer the text heartbeat `ping` with `pong` (ws) or run socket.io's own ping (io).
import http from 'node:http'
import { WebSocketServer } from 'ws'
import { Server as IoServer } from 'socket.io'
import { load } from './build.mjs'

export async function startServer(kind, opts = {}) {
  return kind === 'io' ? startIoServer(opts) : kind === 'realtime' ? startRealtimeServer(opts) : startWsServer(opts)
}

/**
 * vue-realtime's own protocol server (`createRealtimeServer`, memory engine), for the rows that
 * show what its planned close adds: `restart(code)` is `server.close({ code })`, which gives each
 * client its retry hint, then a fresh server on the same port (behind the proxy, which refuses
 * meanwhile). No `peers`, `received` or ping: scenarios c and f only connect and come back.
 */
export async function startRealtimeServer() {
  const { createRealtimeServer } = await load('server')
  let server = createRealtimeServer({ host: '127.0.0.1', port: 0 })
  await server.ready
  const port = server.port
  return {
    kind: 'realtime',
    port,
    url: (p = port) => `ws://127.0.0.1:${p}/`,
    peers: new Set(),
    received: [],
    async restart(code) {
      await server.close({ code })
      server = createRealtimeServer({ host: '127.0.0.1', port })
      await server.ready
    },
    close: () => server.close({ timeout: 500 }),
  }
}

/** Every connection of `server` closed with `code`: a `ws`/socket.io server closes its peers; vue-realtime's restarts (see above). */
export async function closeEvery(server, code) {
  if (server.restart) return server.restart(code)
  for (const peer of server.peers) peer.close(code, 'service restart')
}

export async function startWsServer({ onMessage } = {}) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, clientTracking: true })
  await new Promise((resolve) => wss.once('listening', resolve))
  const peers = new Set()
  const received = []
  wss.on('connection', (ws) => {
    const peer = {
      send: (msg) => ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg)),
      sendRaw: (text) => ws.send(text),
      close: (code, reason) => ws.close(code, reason),
      terminate: () => ws.terminate(),
      ws,
    }
    peers.add(peer)
    ws.on('close', () => peers.delete(peer))
    ws.on('error', () => {})
    ws.on('message', (data) => {
      const text = data.toString()
      if (text === 'ping') return ws.send('pong')
      received.push(text)
      onMessage?.(text, peer)
    })
  })
  const port = wss.address().port
  return {
    kind: 'ws',
    port,
    url: (p = port) => `ws://127.0.0.1:${p}/`,
    peers,
    received,
    wss,
    async close() {
      for (const p of peers) p.terminate()
      await new Promise((resolve) => wss.close(resolve))
    },
  }
}

export async function startIoServer({ onMessage, pingInterval = 25_000, pingTimeout = 20_000 } = {}) {
  const httpServer = http.createServer()
  const io = new IoServer(httpServer, { transports: ['websocket'], perMessageDeflate: false, pingInterval, pingTimeout, serveClient: false })
  await new Promise((resolve) => httpServer.listen(0, '127.0.0.1', resolve))
  const peers = new Set()
  const received = []
  io.on('connection', (socket) => {
    const peer = {
      send: (msg) => socket.emit('m', msg),
      // socket.io has no close codes: drop the transport (the client sees 'transport close' and retries).
      close: () => socket.conn.close(),
      terminate: () => socket.conn.transport?.socket?.terminate?.() ?? socket.conn.close(),
      socket,
    }
    peers.add(peer)
    socket.on('disconnect', () => peers.delete(peer))
    socket.on('m', (msg) => {
      received.push(typeof msg === 'string' ? msg : JSON.stringify(msg))
      onMessage?.(msg, peer)
    })
  })
  const port = httpServer.address().port
  return {
    kind: 'io',
    port,
    url: (p = port) => `http://127.0.0.1:${p}`,
    peers,
    received,
    io,
    async close() {
      io.disconnectSockets(true)
      await new Promise((resolve) => io.close(() => resolve()))
    },
  }
}
