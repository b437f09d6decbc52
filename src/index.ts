/**
 * `vue-realtime`: the Vue layer (plugin, composables) and the core's classes and types.
 * The Pinia store is `vue-realtime/pinia`; the framework-free core alone is `vue-realtime/core`.
 * @module vue-realtime
 */
export { createRealtime, useRealtime, useRealtimeUrl, realtimeKey, realtimeUrlKey, useWebSocket, TIMELINE_LAYER_ID, INSPECTOR_ID } from './vue'
export type {
  RealtimeOptions,
  RealtimePlugin,
  UseWebSocketOptions,
  UseWebSocketReturn,
  FlushMode,
  RealtimeDevtools,
  RealtimeTimelineEvent,
} from './vue'
export { useChannel } from './vue/useChannel'
export type { UseChannelOptions, UseChannelReturn, ChannelMessage, PendingPublish } from './vue/useChannel'
export { ProtocolClient, RealtimeProtocolError, protocolConnectionOptions } from './core/protocolClient'
export { closeCodeInfo, Connection, ConnectionManager, OutboxFullError, CONNECTING, OPEN, CLOSING, CLOSED } from './core'
export { tabSharing } from './core/tabs'
export type * from './core'
