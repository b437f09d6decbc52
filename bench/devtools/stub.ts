// The plugin's devtools folder replaced by nothing: the baseline of bench/devtools-cost.mjs.
import type { App } from 'vue'
import type { ConnectionManager } from '../../src/core'

export type { RealtimeTimelineEvent } from '../../src/vue/devtools/timeline'
export interface RealtimeDevtools {
  addTimelineEvent: (event: import('../../src/vue/devtools/timeline').RealtimeTimelineEvent) => void
}
export const TIMELINE_LAYER_ID = 'vue-realtime'
export const INSPECTOR_ID = 'vue-realtime'
export function setupDevtools(_app: App, _manager: ConnectionManager, _custom?: RealtimeDevtools): () => void {
  return () => {}
}
