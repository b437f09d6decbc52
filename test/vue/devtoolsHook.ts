/**
 * A recording stand-in for the Vue Devtools' global hook: it answers `devtools-plugin:setup`
 * with a plugin API that records layers, inspectors and timeline events, and lets a test ask
 * for the inspector tree and a node's state the way the devtools panel does.
 */
import type {
  DevtoolsPluginApi,
  DevtoolsTimelineEvent,
  InspectorNode,
  InspectorState,
  InspectorStatePayload,
  InspectorTreePayload,
} from '../../src/vue/devtools/hook'

type Global = { __VUE_DEVTOOLS_GLOBAL_HOOK__?: unknown }

export interface RecordingHook {
  plugins: { descriptor: Record<string, unknown> }[]
  layers: { id: string; label: string; color: number }[]
  inspectors: { id: string; label: string }[]
  events: { layerId: string; event: DevtoolsTimelineEvent }[]
  /** How often the library asked the panel to refresh the tree / the selected state. */
  treeRefreshes: number
  stateRefreshes: number
  /** Asks for the tree as the panel does (with a search filter). */
  tree(app: unknown, inspectorId: string, filter?: string): InspectorNode[]
  /** Asks for a node's state as the panel does. */
  state(app: unknown, inspectorId: string, nodeId: string): InspectorState | undefined
  /** Removes the hook from `globalThis`. */
  uninstall(): void
}

/** Installs the recording hook on `globalThis`. */
export function installRecordingHook(): RecordingHook {
  const treeHandlers: ((payload: InspectorTreePayload) => void)[] = []
  const stateHandlers: ((payload: InspectorStatePayload) => void)[] = []
  const hook: RecordingHook = {
    plugins: [],
    layers: [],
    inspectors: [],
    events: [],
    treeRefreshes: 0,
    stateRefreshes: 0,
    tree(app, inspectorId, filter = '') {
      const payload: InspectorTreePayload = { app, inspectorId, filter, rootNodes: [] }
      for (const handler of treeHandlers) handler(payload)
      return payload.rootNodes
    },
    state(app, inspectorId, nodeId) {
      const payload: InspectorStatePayload = { app, inspectorId, nodeId }
      for (const handler of stateHandlers) handler(payload)
      return payload.state
    },
    uninstall() {
      delete (globalThis as Global).__VUE_DEVTOOLS_GLOBAL_HOOK__
    },
  }
  const api: DevtoolsPluginApi = {
    addTimelineLayer: (layer) => void hook.layers.push(layer),
    addTimelineEvent: (options) => void hook.events.push(options),
    addInspector: (inspector) => void hook.inspectors.push(inspector),
    sendInspectorTree: () => void hook.treeRefreshes++,
    sendInspectorState: () => void hook.stateRefreshes++,
    on: {
      getInspectorTree: (handler) => void treeHandlers.push(handler),
      getInspectorState: (handler) => void stateHandlers.push(handler),
    },
  }
  ;(globalThis as Global).__VUE_DEVTOOLS_GLOBAL_HOOK__ = {
    emit(event: string, descriptor: Record<string, unknown>, setup: (api: DevtoolsPluginApi) => void) {
      if (event !== 'devtools-plugin:setup') return
      hook.plugins.push({ descriptor })
      setup(api)
    },
  }
  return hook
}

/** A state section's rows as a plain object (`{ key: value }`). */
export function rows(state: InspectorState | undefined, section: string): Record<string, unknown> {
  return Object.fromEntries((state?.[section] ?? []).map((row) => [row.key, row.value]))
}
