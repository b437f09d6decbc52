/**
 * `vue-realtime/server`: the Node server of the vue-realtime protocol (docs/protocol.md): the
 * `ws` transport and every engine, on top of what `vue-realtime/server/crossws` exports.
 * @module vue-realtime/server
 */
export * from './crossws-entry'
export { createRealtimeServer } from './server'
export { redisEngine, type RedisEngineClient, type RedisEngineOptions, type RedisEngineSettings } from './engine-redis'
export { sqliteEngine, type SqliteEngineOptions } from './engine-sqlite'
export { readToken } from './gate'
export type { RealtimeServer, RealtimeServerOptions } from './types'
export * from '../core/protocol'
