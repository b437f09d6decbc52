// One node of the cross-node fan-out (scenario k), in its own process:
// `node cluster-server.mjs vr|io <redis url>`.
// vr: createRealtimeServer on redisEngine (presence off, no rate limit: the publisher sends 100
//     frames/s, the default limit); stored publishes, as a chat would do.
// io: a socket.io server with @socket.io/redis-adapter (node-redis clients); every connection
//     joins one room, a 'pub' event is broadcast to it with io.to(room).emit('m', …) across nodes.
// Tells its port over IPC.
import http from 'node:http'

const [kind, redisUrl] = process.argv.slice(2)
const TOPIC = 'bench:cluster'
let port

if (kind === 'vr') {
  const { load } = await import('./build.mjs')
  const { createRealtimeServer, redisEngine } = await load('server')
  const engine = redisEngine({ url: redisUrl, prefix: 'bench:' })
  const server = createRealtimeServer({ port: 0, host: '127.0.0.1', engine, presence: false, rateLimit: false, newTopicLimit: false })
  server.on('error', (error) => process.stderr.write(`node: ${error.message}\n`))
  await server.ready
  port = server.port
} else {
  const { Server } = await import('socket.io')
  const { createAdapter } = await import('@socket.io/redis-adapter')
  const { createClient } = await import('redis')
  const pubClient = createClient({ url: redisUrl })
  const subClient = pubClient.duplicate()
  for (const c of [pubClient, subClient]) c.on('error', () => {})
  await Promise.all([pubClient.connect(), subClient.connect()])
  const httpServer = http.createServer()
  const io = new Server(httpServer, { transports: ['websocket'], perMessageDeflate: false, serveClient: false, adapter: createAdapter(pubClient, subClient) })
  io.on('connection', (socket) => {
    if (socket.handshake.query.role !== 'publisher') socket.join(TOPIC)
    socket.on('pub', (msg) => io.to(TOPIC).emit('m', msg))
  })
  await new Promise((resolve) => httpServer.listen(0, '127.0.0.1', resolve))
  port = httpServer.address().port
}

process.send({ port, topic: TOPIC })
// CPU used so far, so the scenario can report how busy the nodes were during the run.
process.on('message', (m) => m === 'cpu' && process.send({ cpu: process.cpuUsage() }))
process.on('disconnect', () => process.exit(0))
