/**
 * `vue-realtime/core`: the framework-free core (no Vue, no DOM globals; environment injected).
 * Use it from Node, workers or other frameworks.
 * @module vue-realtime/core
 */
export { Connection } from './connection'
export type { FrameSettled } from './connection'
export { ConnectionManager, getDefaultManager, mergeOptions } from './manager'
export type { AcquireOptions, ManagerEvents } from './manager'
export { closeCodeInfo, isSendableCloseCode } from './closeCodes'
export { backoffDelay, RECONNECT_DEFAULTS } from './backoff'
export { HEARTBEAT_DEFAULTS, defaultIsPong } from './heartbeat'
export { QUEUE_DEFAULTS, OutboxFullError } from './outbox'
export { jsonSerializer } from './serializer'
export { resolveEnvironment, createManualEnvironment } from './environment'
export type { ManualEnvironment } from './environment'
export { MemoryProfile, MemoryTab } from './tabs/memory'
export { tabSharing, serveTabs } from './tabs'
export type { TabSharingOptions, SharedWorkerLike, MessagePortLike, SharedWorkerScopeLike } from './tabs'
export { normalizeUrl, connectionKey } from './url'
export * from './types'
export { ProtocolClient, RealtimeProtocolError, protocolConnectionOptions, DEFAULT_ANSWER_TIMEOUT } from './protocolClient'
export type { TopicListener, GapInfo, SubscribeOptions, PublishOptions, RequestOptions, ChannelSnapshot } from './protocolClient'
export * from './protocol'
