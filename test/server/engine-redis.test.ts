/**
 * The Redis engine against a real redis-server (test/support/redis.ts): the shared engine
 * conformance suite with two nodes as two engines on one Redis, and what only Redis has.
 */
import { createClient } from 'redis'
import { afterAll, beforeAll } from 'vitest'
import { redisEngine, type RealtimeEngine } from '../../src/server'
import { startRedis, type RedisServer } from '../support/redis'
import { engineConformance } from './engine-conformance'

let redis: RedisServer
let admin: ReturnType<typeof createClient>
let run = 0
let prefix = ''

beforeAll(async () => {
  redis = await startRedis()
  admin = createClient({ url: redis.url })
  admin.on('error', () => {})
  await admin.connect()
})

afterAll(async () => {
  admin?.destroy()
  await redis?.stop()
})

engineConformance('redis', {
  async create({ historyLimit, dedupeWindow }) {
    // A fresh prefix per test: one Redis, no test sees another's keys.
    prefix = `conformance${run++}:`
    const nodes: RealtimeEngine[] = []
    const node = () => {
      const engine = redisEngine({ url: redis.url, prefix, historyLimit, dedupeWindow })
      nodes.push(engine)
      return engine
    }
    return {
      engine: node(),
      async node() {
        const engine = node()
        await engine.ready()
        return engine
      },
      async close() {
        await Promise.all(nodes.map((engine) => engine.close()))
      },
    }
  },
  // As a Redis that lost the topic: every key of it is gone.
  async lose(_nodes, topic) {
    const keys = await admin.keys(`${prefix}{${topic}}*`)
    if (keys.length) await admin.del(keys)
  },
})
