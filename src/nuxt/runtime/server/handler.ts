/** The module's WebSocket route (`realtime.path` under `app.baseURL`), through Nitro's crossws. */
import { defineWebSocketHandler } from 'h3'
import { useRealtimeServer } from './instance'

export default defineWebSocketHandler(useRealtimeServer().hooks)
