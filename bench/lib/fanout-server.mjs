// The fan-out server of scenario i, in its own process. `node fanout-server.mjs vr|io`.
// vr: createRealtimeServer (vue-realtime/server) with presence off and no rate limit (the
//     publisher sends 100 frames/s, the default limit); stored publishes, as a chat would do.
// io: a socket.io server; every connection joins one room, a 'pub' event is broadcast to it
//     with io.to(room).emit('m', …).
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
