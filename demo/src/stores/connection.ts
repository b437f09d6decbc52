import { defineStore } from 'pinia'
import { computed } from 'vue'
import { protocolConnectionOptions, useRealtimeStore, useWebSocket } from '../realtime'
import { useChatStore } from './chat'

/**
 * The chat's one connection, as the banner and the stats panel show it. `useWebSocket` with the
 * protocol's connection options acquires the very socket the channels use (same URL and
 * subprotocol), so `reconnect()` here is the chat's "Retry now"; the counters come from the
 * app-wide `useRealtimeStore`.
 */
export const useConnectionStore = defineStore('connection', () => {
  const realtime = useRealtimeStore()
  const chat = useChatStore()
  const socket = useWebSocket(() => chat.url, { ...protocolConnectionOptions, maxMessages: 0 })

  /** Counters of the chat's connection (looked up by its URL: the store's keys mask the token). */
  const info = computed(() => (chat.url ? realtime.connection(chat.url, protocolConnectionOptions.protocols) : undefined))

  /** Cancels the pending retry and connects now. */
  function retryNow(): void {
    socket.reconnect()
  }

  return { info, retryNow, status: socket.status, lastClose: socket.lastClose, nextRetryAt: socket.nextRetryAt }
})
