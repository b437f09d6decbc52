// The fan-out server of scenario i, in its own process. `node fanout-server.mjs vr|io|raw|raw-batched`.
// vr: createRealtimeServer (vue-realtime/server) with presence off and no rate limit (the
//     publisher sends 100 frames/s, the default limit); stored publishes, as a chat would do.
// io: a socket.io server; every connection joins one room, a 'pub' event is broadcast to it
//     with io.to(room).emit('m', …).
// raw: the limit of a Node server on `ws`: a publisher's frame (URL ?role=publisher) is encoded
//     once and that one buffer is sent to every other client.
// raw-batched: the same, with each socket corked from its first frame of a tick to the end of
//     it (process.nextTick), so what a socket gets in one tick leaves in one write: the limit
//     with the batching createRealtimeServer does.
// Tells its port over IPC.
import http from 'node:http'

const kind = process.argv[2]
const TOPIC = 'bench:fanout'
let port

if (kind === 'vr') {
  const { load } = await import('./build.mjs')
  const { createRealtimeServer } = await load('server')
  const server = createRealtimeServer({ port: 0, host: '127.0.0.1', presence: false, rateLimit: false })
  server.on('error', () => {})
  await server.ready
  port = server.port
} else if (kind === 'raw' || kind === 'raw-batched') {
  const { WebSocketServer } = await import('ws')
  const batched = kind === 'raw-batched'
  /** Sockets corked this tick; uncorked together once the tick's work is done. */
  const held = new Set()
  const release = () => {
    for (const socket of held) socket.uncork()
    held.clear()
  }
  const hold = (socket) => {
    if (held.has(socket)) return
    socket.cork()
    if (held.size === 0) process.nextTick(release)
    held.add(socket)
  }
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false })
  /** Each subscriber's WebSocket → its TCP socket. */
  const subscribers = new Map()
  wss.on('connection', (ws, req) => {
    ws.on('error', () => {})
    if (!req.url?.includes('role=publisher')) {
      subscribers.set(ws, req.socket)
      ws.on('close', () => subscribers.delete(ws))
      return
    }
    ws.on('message', (data) => {
      const frame = Buffer.from(data)
      for (const [s, socket] of subscribers) {
        if (batched) hold(socket)
        s.send(frame, { binary: false })
      }
    })
  })
  await new Promise((resolve) => wss.once('listening', resolve))
  port = wss.address().port
} else {
  const { Server } = await import('socket.io')
  const httpServer = http.createServer()
  const io = new Server(httpServer, { transports: ['websocket'], perMessageDeflate: false, serveClient: false })
  io.on('connection', (socket) => {
    if (socket.handshake.query.role !== 'publisher') socket.join(TOPIC)
    socket.on('pub', (msg) => io.to(TOPIC).emit('m', msg))
  })
  await new Promise((resolve) => httpServer.listen(0, '127.0.0.1', resolve))
  port = httpServer.address().port
}

process.send({ port, topic: TOPIC })
// CPU used so far, so the scenario can report how busy the server was during the run.
process.on('message', (m) => m === 'cpu' && process.send({ cpu: process.cpuUsage() }))
process.on('disconnect', () => process.exit(0))
