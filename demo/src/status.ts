import type { ConnectionStatus } from 'vue-realtime'

/** The connection status in words (never colour alone). */
export const STATUS_TEXT: Record<ConnectionStatus, string> = {
  idle: 'Not connected',
  connecting: 'Connecting…',
  open: 'Connected',
  closing: 'Closing…',
  reconnecting: 'Reconnecting…',
  offline: 'Offline',
  closed: 'Disconnected',
  failed: 'Disconnected',
}
