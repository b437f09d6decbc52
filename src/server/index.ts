/**
 * `vue-realtime/server`: the Node server of the vue-realtime protocol (docs/protocol.md).
 * @module vue-realtime/server
 */
export { createRealtimeServer } from './server'
export { createRealtimeHooks, type CrosswsHooks, type CrosswsMessage, type CrosswsPeer, type RealtimeHooks } from './crossws'
export { memoryEngine, type MemoryEngineOptions } from './engine-memory'
export { redisEngine, type RedisEngineClient, type RedisEngineOptions, type RedisEngineSettings } from './engine-redis'
export { sqliteEngine, type SqliteEngineOptions } from './engine-sqlite'
export {
  EngineError,
  type BroadcastResult,
  type EngineEvent,
  type EngineListener,
  type EngineMessage,
  type EnginePublish,
  type EngineUnsubscribe,
  type EphemeralMessage,
  type HistoryQuery,
  type HistoryResult,
  type PresenceEvent,
  type PublishResult,
  type RealtimeEngine,
} from './engine'
export { RequestError } from './requests'
export { readToken } from './gate'
export type { RateLimit } from './limits'
export type {
  AuthenticateContext,
  CloseOptions,
  NewTopicLimit,
  PublishOptions,
  PublishedMessage,
  RealtimeClient,
  RealtimeServer,
  RealtimeServerEvents,
  RealtimeServerOptions,
  RealtimeServerCore,
  RealtimeProtocolOptions,
  RealtimeHooksOptions,
  UpgradeRequest,
  RequestHandler,
  ServerPublishResult,
  TopicAction,
} from './types'
export * from '../core/protocol'
