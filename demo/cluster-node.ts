/**
 * One chat node of `npm run demo:cluster` (and of test/e2e/cluster.e2e.test.ts), run as a child
 * process: the demo's chat server on the Redis engine. Environment: REDIS_URL, PORT (0 = any
 * free one), NODE_TTL_MS (how soon a killed node's members leave; the engine's default
 * without it). Tells its parent `{ type: 'ready', port }` over IPC; `close` or SIGTERM/SIGINT
 * stop it gracefully.
 */
import { redisEngine } from '../src/server/index'
import { startChatServer } from './server'

const engine = redisEngine({
  url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  prefix: process.env.REDIS_PREFIX ?? 'demo:',
  nodeTtlMs: process.env.NODE_TTL_MS ? Number(process.env.NODE_TTL_MS) : undefined,
})
const chat = await startChatServer({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0), engine })
chat.on('error', (error) => console.error(`chat node :${chat.port}: ${error.message}`))
process.send?.({ type: 'ready', port: chat.port })

let stopping = false
async function stop(): Promise<void> {
  if (stopping) return
  stopping = true
  await chat.close({ code: 1012, reason: 'node restarting' })
  await engine.close()
  process.exit(0)
}
process.on('message', (message) => message === 'close' && void stop())
process.on('SIGTERM', () => void stop())
process.on('SIGINT', () => void stop())
// Its parent went away: do not outlive it.
process.on('disconnect', () => void stop())
