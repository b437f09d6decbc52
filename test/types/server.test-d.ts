import { describe, expectTypeOf, it } from 'vitest'
import {
  createRealtimeServer,
  EngineError,
  memoryEngine,
  sqliteEngine,
  type EngineEvent,
  type EngineMessage,
  type HistoryResult,
  type PresenceMember,
  type PublishResult,
  type RealtimeEngine,
  type RealtimeServer,
  type ServerPublishResult,
  type SqliteEngineOptions,
} from 'vue-realtime/server'

describe('vue-realtime/server types', () => {
  it('takes an engine and exposes it', () => {
    const engine = memoryEngine({ historyLimit: 100, maxTopics: 1000, maxBytes: 1 << 20 })
    expectTypeOf(engine).toEqualTypeOf<RealtimeEngine>()
    const server = createRealtimeServer<{ name: string }>({ engine, newTopicLimit: { topics: 10, perMs: 60_000 }, replayMaxBytes: 1 << 20, maxDepth: 32 })
    expectTypeOf(server).toEqualTypeOf<RealtimeServer<{ name: string }>>()
    expectTypeOf(server.engine).toEqualTypeOf<RealtimeEngine>()
    expectTypeOf(server.presence('room')).toEqualTypeOf<Promise<PresenceMember<{ name: string }>[]>>()
    expectTypeOf(server.publish('room', { text: 'hi' })).toEqualTypeOf<Promise<ServerPublishResult>>()
    expectTypeOf<ServerPublishResult['duplicate']>().toEqualTypeOf<boolean>()
    expectTypeOf<ServerPublishResult['epoch']>().toEqualTypeOf<string | undefined>()
    // A planned close and its retry hints.
    expectTypeOf(server.close({ code: 1012, retryRate: 2_000, retryAfter: 3_000 })).toEqualTypeOf<Promise<void>>()
    // @ts-expect-error retryRate is a number (0 sends no hint)
    void server.close({ retryRate: false })
    // @ts-expect-error the old store option is gone: pass an engine
    createRealtimeServer({ store: {} })
    // @ts-expect-error newTopicLimit is an object or false
    createRealtimeServer({ newTopicLimit: true })
  })

  it('makes a SQLite engine from a path, full or normal', () => {
    expectTypeOf(sqliteEngine({ path: './data/realtime.db' })).toEqualTypeOf<RealtimeEngine>()
    expectTypeOf(sqliteEngine({ path: 'x.db', synchronous: 'normal', historyLimit: 100, dedupeWindow: 100, cacheTopics: 500, cacheBytes: 1 << 20, lockTimeout: 0 })).toEqualTypeOf<RealtimeEngine>()
    expectTypeOf<SqliteEngineOptions['synchronous']>().toEqualTypeOf<'full' | 'normal' | undefined>()
    createRealtimeServer({ dataDir: './data' })
    // @ts-expect-error a path is required
    sqliteEngine({})
    // @ts-expect-error only 'full' or 'normal'
    sqliteEngine({ path: 'x.db', synchronous: 'off' })
  })

  it('types the engine contract for other implementations', () => {
    expectTypeOf<RealtimeEngine['publish']>().returns.toEqualTypeOf<Promise<PublishResult>>()
    expectTypeOf<PublishResult['message']>().toEqualTypeOf<EngineMessage>()
    expectTypeOf<EngineMessage['data']>().toEqualTypeOf<string>()
    expectTypeOf<RealtimeEngine['history']>().returns.toEqualTypeOf<Promise<HistoryResult>>()
    expectTypeOf<RealtimeEngine['subscribe']>().parameter(1).toEqualTypeOf<(event: EngineEvent) => void>()
    expectTypeOf<RealtimeEngine['subscribe']>().returns.toEqualTypeOf<Promise<() => Promise<void>>>()
    const full = new EngineError('server_full', 'The server is full; retry later.')
    expectTypeOf(full.code).toEqualTypeOf<EngineError['code']>()
    // @ts-expect-error only protocol error codes
    new EngineError('disk_on_fire', 'no')
  })
})
