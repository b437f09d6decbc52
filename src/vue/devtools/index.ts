/**
 * Devtools for an app's connections (development only: the plugin calls this behind an inline
 * `process.env.NODE_ENV !== 'production'`, so production builds carry none of this folder).
 *
 * - In the Vue Devtools (when their hook is present): a timeline layer of frames in and out,
 *   status changes, opens, closes and errors, grouped per connection attempt; and an
 *   inspector with one node per connection and a child per channel.
 * - Any object with `addTimelineEvent(event)` passed as `createRealtime({ devtools })` (a
 *   logger, a test, a custom panel) receives the same timeline events.
 */
import type { App } from 'vue'
import type { Connection, ConnectionManager } from '../../core'
import { DEVTOOLS_ID, onDevtoolsApi, type DevtoolsPluginApi } from './hook'
import { Inspector } from './inspector'
import { watchTimeline, type RealtimeTimelineEvent } from './timeline'

export type { RealtimeTimelineEvent } from './timeline'

/** Receives the timeline events of an app's connections. */
export interface RealtimeDevtools {
  addTimelineEvent: (event: RealtimeTimelineEvent) => void
}

/** The devtools timeline layer's id. */
export const TIMELINE_LAYER_ID = DEVTOOLS_ID
/** The devtools inspector's id. */
export const INSPECTOR_ID = DEVTOOLS_ID
const TIMELINE_COLOR = 0x41b883
/** The inspector is refreshed at most this often, ms: a busy socket must not flood the panel. */
const INSPECTOR_REFRESH_MS = 100

/**
 * Feeds the devtools from every connection of `manager`, present and future. Returns the
 * remover (the plugin calls it on `app.unmount()`).
 */
export function setupDevtools(app: App, manager: ConnectionManager, custom?: RealtimeDevtools): () => void {
  const sinks: RealtimeDevtools[] = custom ? [custom] : []
  const inspector = new Inspector()
  let api: DevtoolsPluginApi | undefined
  let refreshTimer: ReturnType<typeof setTimeout> | undefined
  let stopped = false

  const refresh = (): void => {
    if (!api || refreshTimer !== undefined || stopped) return
    refreshTimer = setTimeout(() => {
      refreshTimer = undefined
      try {
        api?.sendInspectorTree(INSPECTOR_ID)
        api?.sendInspectorState(INSPECTOR_ID)
      } catch {
        // A broken devtools build must never break the app.
      }
    }, INSPECTOR_REFRESH_MS)
  }

  onDevtoolsApi(app, (pluginApi) => {
    if (stopped) return
    pluginApi.addTimelineLayer({ id: TIMELINE_LAYER_ID, label: 'Realtime', color: TIMELINE_COLOR })
    // Events before the devtools called back are not kept: the panel was not open to show them.
    sinks.push({ addTimelineEvent: (event) => pluginApi.addTimelineEvent({ layerId: TIMELINE_LAYER_ID, event }) })
    // The inspector comes second: a devtools build without it still gets the timeline.
    pluginApi.addInspector({ id: INSPECTOR_ID, label: 'Realtime', icon: 'cell_tower', treeFilterPlaceholder: 'URL or topic' })
    pluginApi.on.getInspectorTree((payload) => {
      if (payload.app === app && payload.inspectorId === INSPECTOR_ID) payload.rootNodes = inspector.tree(payload.filter)
    })
    pluginApi.on.getInspectorState((payload) => {
      if (payload.app !== app || payload.inspectorId !== INSPECTOR_ID) return
      const state = inspector.state(payload.nodeId)
      if (state) payload.state = state
    })
    api = pluginApi
  })

  const emit = (event: RealtimeTimelineEvent): void => {
    for (const sink of sinks) {
      try {
        sink.addTimelineEvent(event)
      } catch {
        // A broken devtools sink must never break a connection.
      }
    }
  }

  const watched = new Map<Connection, () => void>()
  const watch = (connection: Connection): void => {
    if (watched.has(connection)) return
    const id = inspector.add(connection)
    const removers = [
      watchTimeline(connection, id, emit),
      // Channel state changes only with a frame or a state change: refresh on those.
      connection.on('state', refresh),
      connection.on('frameIn', refresh),
      connection.on('frameOut', refresh),
    ]
    watched.set(connection, () => removers.forEach((remove) => remove()))
    refresh()
  }
  const unwatch = (connection: Connection): void => {
    watched.get(connection)?.()
    watched.delete(connection)
    inspector.remove(connection)
    refresh()
  }

  for (const connection of manager.connections.values()) watch(connection)
  const offAdd = manager.on('add', watch)
  const offRemove = manager.on('remove', unwatch)
  return () => {
    stopped = true
    offAdd()
    offRemove()
    for (const remove of watched.values()) remove()
    watched.clear()
    // The app is gone: connections its consumers still hold (closed) are no longer shown.
    inspector.clear()
    clearTimeout(refreshTimer)
    refreshTimer = undefined
  }
}
