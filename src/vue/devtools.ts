/**
 * Devtools timeline layer: frames in and out, status changes, closes and errors of every
 * connection of an app's manager. Imported by the plugin only, so a `useWebSocket`-only bundle
 * carries none of it.
 *
 * Two sinks, both optional:
 * - the Vue Devtools, when `__VUE_DEVTOOLS_GLOBAL_HOOK__` is present (development only). The plugin
 *   is registered by emitting the hook's `devtools-plugin:setup` event, which is all that
 *   `@vue/devtools-api`'s `setupDevtoolsPlugin` does, so no dependency is needed;
 * - any object with `addTimelineEvent(event)` passed as `createRealtime({ devtools })` (a logger,
 *   a test, a custom panel). It receives events in production too: it was asked for explicitly.
 */
import type { App } from 'vue'
import type { Connection, ConnectionManager } from '../core'
import type { ConnectionStatus, TabRole } from '../core/types'
import { redactSecrets } from '../core/redact'
import { displayKey, redactProtocols } from '../core/url'

/** One entry of the timeline (the shape of the Vue Devtools' `TimelineEvent`). */
export interface RealtimeTimelineEvent {
  /** Epoch ms. */
  time: number
  /** `frame in`, `frame out`, `status`, `role` (shared across tabs: leader or follower), `open`, `close` or `error`. */
  title: string
  /** The connection's URL, credentials masked (`?token=***`). */
  subtitle: string
  /** Details (the frame, the new status, the close info...). */
  data: Record<string, unknown>
  /** Groups the events of one connection: its URL and subprotocols, credentials masked. */
  groupId: string
  logType?: 'default' | 'warning' | 'error'
}

/** Receives the timeline events of an app's connections. */
export interface RealtimeDevtools {
  addTimelineEvent: (event: RealtimeTimelineEvent) => void
}

/** The devtools layer's id and label. */
export const TIMELINE_LAYER_ID = 'vue-realtime'
const TIMELINE_COLOR = 0x41b883
/** Frames longer than this are cut in the timeline, so a large payload cannot freeze the panel. */
const MAX_FRAME_PREVIEW = 1_000

interface DevtoolsHook {
  emit: (event: string, ...args: unknown[]) => void
}

interface DevtoolsPluginApi {
  addTimelineLayer: (layer: { id: string; label: string; color: number }) => void
  addTimelineEvent: (options: { layerId: string; event: RealtimeTimelineEvent }) => void
}

function preview(data: unknown): unknown {
  if (typeof data === 'string') return data.length > MAX_FRAME_PREVIEW ? `${data.slice(0, MAX_FRAME_PREVIEW)}…` : data
  if (data instanceof ArrayBuffer) return `<binary ${data.byteLength} bytes>`
  if (ArrayBuffer.isView(data)) return `<binary ${data.byteLength} bytes>`
  if (typeof Blob !== 'undefined' && data instanceof Blob) return `<blob ${data.size} bytes>`
  return data
}

/** Registers with the Vue Devtools when present; returns the sink, or undefined. */
function connectVueDevtools(app: App): RealtimeDevtools | undefined {
  if (process.env.NODE_ENV === 'production' || typeof window === 'undefined') return undefined
  const hook = (globalThis as { __VUE_DEVTOOLS_GLOBAL_HOOK__?: DevtoolsHook }).__VUE_DEVTOOLS_GLOBAL_HOOK__
  if (!hook || typeof hook.emit !== 'function') return undefined
  let api: DevtoolsPluginApi | undefined
  try {
    hook.emit(
      'devtools-plugin:setup',
      {
        id: 'vue-realtime',
        label: 'vue-realtime',
        packageName: 'vue-realtime',
        homepage: 'https://github.com/vue-realtime/vue-realtime',
        app,
      },
      (pluginApi: DevtoolsPluginApi) => {
        api = pluginApi
        api.addTimelineLayer({ id: TIMELINE_LAYER_ID, label: 'Realtime', color: TIMELINE_COLOR })
      },
    )
  } catch {
    return undefined
  }
  // Events before the devtools called back are not kept: the panel was not open to show them.
  return { addTimelineEvent: (event) => api?.addTimelineEvent({ layerId: TIMELINE_LAYER_ID, event }) }
}

/**
 * Feeds the timeline from every connection of `manager`, present and future. Returns the
 * remover (the plugin calls it on `app.unmount()`).
 */
export function setupDevtools(app: App, manager: ConnectionManager, custom?: RealtimeDevtools): () => void {
  const sinks = [custom, connectVueDevtools(app)].filter((sink): sink is RealtimeDevtools => !!sink)
  if (sinks.length === 0) return () => {}

  // What the timeline shows of a connection: never a token (a `?token=` value, the token subprotocol).
  const shown = new Map<Connection, { url: string; group: string }>()
  const emit = (connection: Connection, title: string, data: Record<string, unknown>, logType?: RealtimeTimelineEvent['logType']): void => {
    const { url, group } = shown.get(connection) ?? { url: redactSecrets(connection.url), group: connection.key }
    const event: RealtimeTimelineEvent = { time: Date.now(), title, subtitle: url, data, groupId: group }
    if (logType) event.logType = logType
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
    // Two connections that differ only in their credentials get two groups all the same.
    const base = displayKey(connection.url, connection.protocols, connection.options.tokenProtocol)
    const groups = new Set([...shown.values()].map((entry) => entry.group))
    let group = base
    for (let n = 2; groups.has(group); n++) group = `${base} (${n})`
    shown.set(connection, { url: redactSecrets(connection.url), group })
    let status: ConnectionStatus = connection.state.status
    let role: TabRole = connection.state.role
    const removers = [
      connection.on('frameIn', ({ data }) => emit(connection, 'frame in', { data: preview(data) })),
      connection.on('frameOut', ({ data }) => emit(connection, 'frame out', { data: preview(data) })),
      // `state` also fires for counters; the timeline shows status changes only.
      connection.on('state', (state) => {
        // Shared across tabs: which tab holds the socket (this one leads, or follows another).
        if (state.role !== role) emit(connection, 'role', { from: role, to: (role = state.role) })
        if (state.status === status) return
        emit(connection, 'status', { from: status, to: state.status, attempt: state.attempt, nextRetryAt: state.nextRetryAt, role: state.role })
        status = state.status
      }),
      connection.on('open', ({ protocol }) => emit(connection, 'open', { protocol: redactProtocols(protocol, connection.options.tokenProtocol).join(',') })),
      connection.on('close', (info) => emit(connection, 'close', { ...info }, info.wasClean ? 'default' : 'warning')),
      connection.on('error', (info) => emit(connection, 'error', { kind: info.kind, message: info.message }, 'error')),
    ]
    watched.set(connection, () => removers.forEach((remove) => remove()))
  }
  const unwatch = (connection: Connection): void => {
    watched.get(connection)?.()
    watched.delete(connection)
    shown.delete(connection)
  }

  for (const connection of manager.connections.values()) watch(connection)
  const offAdd = manager.on('add', watch)
  const offRemove = manager.on('remove', unwatch)
  return () => {
    offAdd()
    offRemove()
    for (const remove of watched.values()) remove()
    watched.clear()
    shown.clear()
  }
}
