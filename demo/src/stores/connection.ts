import { defineStore } from 'pinia'
import { computed } from 'vue'
import { normalizeUrl } from 'vue-realtime/core'
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

  const wsUrl = computed(() => (chat.url ? normalizeUrl(chat.url) : undefined))
  /** Counters of the chat's connection (the store keys connections by URL plus subprotocols). */
  const info = computed(() => Object.values(realtime.connections).find((c) => c.url === wsUrl.value))

  /** Cancels the pending retry and connects now. */
  function retryNow(): void {
    socket.reconnect()
  }

  return { info, retryNow, status: socket.status, lastClose: socket.lastClose, nextRetryAt: socket.nextRetryAt }
})
