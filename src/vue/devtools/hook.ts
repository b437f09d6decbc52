/**
 * The Vue Devtools plugin API, reached through the global hook the devtools inject.
 *
 * `@vue/devtools-api`'s `setupDevtoolsPlugin` does nothing more than emit the hook's
 * `devtools-plugin:setup` event, and both the v6 and the v7 devtools answer it with this (v6)
 * API. Emitting the event ourselves costs a few hundred bytes in a development bundle; importing
 * `@vue/devtools-api` 7 costs tens of kB (`node bench/devtools-cost.mjs` measures both).
 */
import type { App } from 'vue'

/** A tag on an inspector node (the devtools' `InspectorNodeTag`). */
export interface InspectorNodeTag {
  label: string
  textColor: number
  backgroundColor: number
  tooltip?: string
}

/** A node of the inspector tree (the devtools' `CustomInspectorNode`). */
export interface InspectorNode {
  id: string
  label: string
  tags?: InspectorNodeTag[]
  children?: InspectorNode[]
}

/** One row of a node's state. */
export interface InspectorStateEntry {
  key: string
  value: unknown
  editable?: boolean
}

/** A node's state: rows by section title (the devtools' `CustomInspectorState`). */
export type InspectorState = Record<string, InspectorStateEntry[]>

/** The devtools' `TimelineEvent`. */
export interface DevtoolsTimelineEvent {
  time: number
  title: string
  subtitle?: string
  data: Record<string, unknown>
  groupId?: string
  logType?: 'default' | 'warning' | 'error'
}

/** What the devtools pass to `getInspectorTree` handlers; the handler fills `rootNodes`. */
export interface InspectorTreePayload {
  app: unknown
  inspectorId: string
  filter: string
  rootNodes: InspectorNode[]
}

/** What the devtools pass to `getInspectorState` handlers; the handler fills `state`. */
export interface InspectorStatePayload {
  app: unknown
  inspectorId: string
  nodeId: string
  state?: InspectorState
}

/** The part of the devtools plugin API this library uses. */
export interface DevtoolsPluginApi {
  addTimelineLayer(layer: { id: string; label: string; color: number }): void
  addTimelineEvent(options: { layerId: string; event: DevtoolsTimelineEvent }): void
  addInspector(inspector: { id: string; label: string; icon?: string; treeFilterPlaceholder?: string }): void
  sendInspectorTree(inspectorId: string): void
  sendInspectorState(inspectorId: string): void
  on: {
    getInspectorTree(handler: (payload: InspectorTreePayload) => void): void
    getInspectorState(handler: (payload: InspectorStatePayload) => void): void
  }
}

interface DevtoolsHook {
  emit: (event: string, ...args: unknown[]) => void
}

/** The plugin's id, also its timeline layer's and inspector's. */
export const DEVTOOLS_ID = 'vue-realtime'

/**
 * Registers the plugin with the Vue Devtools when their hook is present (a browser in
 * development). `setup` runs when the devtools call back, which may be later or never.
 */
export function onDevtoolsApi(app: App, setup: (api: DevtoolsPluginApi) => void): void {
  if (typeof window === 'undefined') return
  const hook = (globalThis as { __VUE_DEVTOOLS_GLOBAL_HOOK__?: DevtoolsHook }).__VUE_DEVTOOLS_GLOBAL_HOOK__
  if (!hook || typeof hook.emit !== 'function') return
  try {
    hook.emit(
      'devtools-plugin:setup',
      {
        id: DEVTOOLS_ID,
        label: 'vue-realtime',
        packageName: 'vue-realtime',
        homepage: 'https://github.com/vue-realtime/vue-realtime',
        app,
      },
      setup,
    )
  } catch {
    // A devtools build that throws must never break the app.
  }
}
