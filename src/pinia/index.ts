export { useRealtimeStore } from './store'
export type { RealtimeConnectionInfo, RealtimeStore } from './store'
