/**
 * `vue-realtime/server/crossws`: the protocol server as crossws hooks, for a Nitro or h3 route
 * (`defineWebSocketHandler(createRealtimeHooks().hooks)`). The same server as
 * `vue-realtime/server` without its `ws` transport: nothing behind this entry imports `ws`,
 * which a Nitro app does not have to install.
 * @module vue-realtime/server/crossws
 */
export { createRealtimeHooks, type CrosswsHooks, type CrosswsMessage, type CrosswsPeer, type RealtimeHooks } from './crossws'
export { memoryEngine, type MemoryEngineOptions } from './engine-memory'
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
export type { RateLimit } from './limits'
export type {
  AuthenticateContext,
  CloseOptions,
  NewTopicLimit,
  PublishOptions,
  PublishedMessage,
  RealtimeClient,
  RealtimeHooksOptions,
  RealtimeProtocolOptions,
  RealtimeServerCore,
  RealtimeServerEvents,
  RequestHandler,
  ServerPublishResult,
  TopicAction,
  UpgradeRequest,
} from './types'
