// The server of the publish→ack scenario (l), in its own process:
// `node ack-server.mjs memory|sqlite-full|sqlite-normal|redis [redis url]`. createRealtimeServer
// on the named engine, presence off, no rate limit. Tells its port over IPC. SQLite's file is in
// bench/.tmp/ack-sqlite (the disk the project is on), emptied at start: the job ends this
// process with SIGKILL, which no cleanup would survive.
import { mkdirSync, rmSync } from 'node:fs'
import path from 'node:path'
import { load, TMP } from './build.mjs'

const [engineName, redisUrl] = process.argv.slice(2)
const { createRealtimeServer, memoryEngine, redisEngine, sqliteEngine } = await load('server')
const sqliteDir = path.join(TMP, 'ack-sqlite')
const sqlite = (synchronous) => {
  rmSync(sqliteDir, { recursive: true, force: true })
  mkdirSync(sqliteDir, { recursive: true })
  return sqliteEngine({ path: path.join(sqliteDir, 'bench.db'), synchronous })
}
const engines = {
  memory: () => memoryEngine(),
  'sqlite-full': () => sqlite('full'),
  'sqlite-normal': () => sqlite('normal'),
  redis: () => redisEngine({ url: redisUrl, prefix: 'bench-ack:' }),
}
const engine = engines[engineName]()
const server = createRealtimeServer({ port: 0, host: '127.0.0.1', engine, presence: false, rateLimit: false, newTopicLimit: false })
server.on('error', (error) => process.stderr.write(`ack server: ${error.message}\n`))
await server.ready
process.send({ port: server.port })
process.on('disconnect', () => process.exit(0))
