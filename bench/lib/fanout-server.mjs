// The fan-out server of scenario i, in its own process. `node fanout-server.mjs vr|io|raw`.
// vr: createRealtimeServer (vue-realtime/server) with presence off and no rate limit (the
//     publisher sends 100 frames/s, the default limit); stored publishes, as a chat would do.
// io: a socket.io server; every connection joins one room, a 'pub' event is broadcast to it
//     with io.to(room).emit('m', …).
// raw: the limit of a Node server on `ws`: a publisher's frame (URL ?role=publisher) is encoded
//     once and that one buffer is sent to every other client.
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
} else if (kind === 'raw') {
  const { WebSocketServer } = await import('ws')
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false })
  const subscribers = new Set()
  wss.on('connection', (ws, req) => {
    ws.on('error', () => {})
    if (!req.url?.includes('role=publisher')) {
      subscribers.add(ws)
      ws.on('close', () => subscribers.delete(ws))
      return
    }
    ws.on('message', (data) => {
      const frame = Buffer.from(data)
      for (const s of subscribers) s.send(frame, { binary: false })
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
