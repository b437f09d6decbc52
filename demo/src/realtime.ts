/** The library as the demo uses it: the plugin, the composables and the Pinia store. */
export { createRealtime, useRealtime, useWebSocket, useChannel, closeCodeInfo, protocolConnectionOptions } from 'vue-realtime'
export type { ChannelMessage, PendingPublish } from 'vue-realtime'
export { useRealtimeStore } from 'vue-realtime/pinia'
