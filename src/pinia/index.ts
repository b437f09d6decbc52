/**
 * `vue-realtime/pinia`: `useRealtimeStore`, every connection of the app as Pinia state.
 * @module vue-realtime/pinia
 */
export { useRealtimeStore } from './store'
export type { RealtimeConnectionInfo, RealtimeStore } from './store'
