// The server of the publish→ack scenario (l), in its own process:
// `node ack-server.mjs memory|redis [redis url]`. createRealtimeServer on the named engine,
// presence off, no rate limit. Tells its port over IPC.
const [engineName, redisUrl] = process.argv.slice(2)
const { load } = await import('./build.mjs')
const { createRealtimeServer, memoryEngine, redisEngine } = await load('server')
const engines = {
  memory: () => memoryEngine(),
  redis: () => redisEngine({ url: redisUrl, prefix: 'bench-ack:' }),
}
const engine = engines[engineName]()
const server = createRealtimeServer({ port: 0, host: '127.0.0.1', engine, presence: false, rateLimit: false, newTopicLimit: false })
server.on('error', (error) => process.stderr.write(`ack server: ${error.message}\n`))
await server.ready
process.send({ port: server.port })
process.on('disconnect', () => process.exit(0))
