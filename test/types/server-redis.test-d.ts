import { createClient } from 'redis'
import { describe, expectTypeOf, it } from 'vitest'
import { createRealtimeServer, redisEngine, type RealtimeEngine, type RedisEngineClient, type RedisEngineOptions } from 'vue-realtime/server'

describe('redisEngine types', () => {
  it('takes a url or a node-redis client, and is an engine', () => {
    const byUrl = redisEngine({ url: 'redis://127.0.0.1:6379', prefix: 'app:', historyLimit: 500, nodeTtlMs: 10_000 })
    expectTypeOf(byUrl).toEqualTypeOf<RealtimeEngine>()
    createRealtimeServer({ engine: byUrl })
    // A node-redis client (v6) fits the structural client type, so the server's types never import `redis`.
    const client = createClient({ url: 'redis://127.0.0.1:6379' })
    expectTypeOf(client).toExtend<RedisEngineClient>()
    redisEngine({ client })
    redisEngine({ client: client.duplicate() })
  })

  it('needs exactly one of url and client', () => {
    // @ts-expect-error neither
    redisEngine({ prefix: 'app:' })
    // @ts-expect-error both
    redisEngine({ url: 'redis://127.0.0.1:6379', client: createClient() })
    // @ts-expect-error a number is no url
    redisEngine({ url: 6379 })
    expectTypeOf<RedisEngineOptions['prefix']>().toEqualTypeOf<string | undefined>()
  })
})
