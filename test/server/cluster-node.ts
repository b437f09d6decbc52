/**
 * One server node on the Redis engine, run as a child process by test/server/cluster.ts
 * (bundled with esbuild first). Settings come from the environment; it reports `ready` with its
 * port, and every server error, over IPC. `close` shuts it down gracefully.
 */
import { createRealtimeServer, redisEngine } from '../../src/server/index'

const env = (name: string): number | undefined => (process.env[name] ? Number(process.env[name]) : undefined)

const engine = redisEngine({
  url: process.env.REDIS_URL!,
  prefix: process.env.PREFIX,
  historyLimit: env('HISTORY_LIMIT'),
  nodeTtlMs: env('NODE_TTL_MS'),
})
const server = createRealtimeServer({ host: '127.0.0.1', port: env('PORT') ?? 0, engine, rateLimit: false, newTopicLimit: false })
server.on('error', (error) => process.send?.({ type: 'error', message: error.message }))
await server.ready
process.send?.({ type: 'ready', port: server.port })

process.on('message', (message) => {
  if (message !== 'close') return
  void (async () => {
    await server.close({ timeout: 1000 })
    await engine.close()
    process.exit(0)
  })()
})
// The test process went away: do not outlive it.
process.on('disconnect', () => process.exit(0))
