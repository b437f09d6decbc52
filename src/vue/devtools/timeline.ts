/**
 * The timeline layer: frames in and out, status changes, opens, closes and errors of one
 * connection, grouped per connection attempt (each socket the connection opens is one group,
 * from `connecting` to its close), so a flapping link reads as a list of attempts.
 */
import type { Connection } from '../../core'
import type { ConnectionStatus, TabRole } from '../../core/types'
import { redactSecrets } from '../../core/redact'
import { redactProtocols } from '../../core/url'

/** One entry of the timeline (the shape of the Vue Devtools' `TimelineEvent`). */
export interface RealtimeTimelineEvent {
  /** Epoch ms. */
  time: number
  /** `frame in`, `frame out`, `status`, `role` (shared across tabs: leader or follower), `open`, `close` or `error`. */
  title: string
  /** The connection's URL (credentials redacted). */
  subtitle: string
  /** Details (the frame, the new status, the close explained...). */
  data: Record<string, unknown>
  /** Groups the events of one connection attempt: `<connection id> #<attempt>`. */
  groupId: string
  logType?: 'default' | 'warning' | 'error'
}

/** Frames longer than this are cut in the timeline, so a large payload cannot freeze the panel. */
const MAX_FRAME_PREVIEW = 1_000

function preview(data: unknown, secret: string | undefined): unknown {
  if (typeof data === 'string') {
    // An app that also sends its token in a frame (an `auth` message) must not see it here either.
    const text = secret ? data.split(secret).join('***') : data
    return text.length > MAX_FRAME_PREVIEW ? `${text.slice(0, MAX_FRAME_PREVIEW)}…` : text
  }
  if (data instanceof ArrayBuffer) return `<binary ${data.byteLength} bytes>`
  if (ArrayBuffer.isView(data)) return `<binary ${data.byteLength} bytes>`
  if (typeof Blob !== 'undefined' && data instanceof Blob) return `<blob ${data.size} bytes>`
  return data
}

/**
 * Emits the timeline events of `connection` (named `id` in group ids) to `emit`; returns
 * the remover.
 */
export function watchTimeline(connection: Connection, id: string, emit: (event: RealtimeTimelineEvent) => void): () => void {
  const subtitle = redactSecrets(connection.url)
  const token = connection.options.token
  const secret = typeof token === 'string' && token ? token : undefined
  let status: ConnectionStatus = connection.state.status
  let role: TabRole = connection.state.role
  let attempt = 0
  let groupId = `${id} #${attempt}`
  const add = (title: string, data: Record<string, unknown>, logType?: RealtimeTimelineEvent['logType']): void => {
    const event: RealtimeTimelineEvent = { time: Date.now(), title, subtitle, data, groupId }
    if (logType) event.logType = logType
    emit(event)
  }
  const removers = [
    connection.on('frameIn', ({ data }) => add('frame in', { data: preview(data, secret) })),
    connection.on('frameOut', ({ data }) => add('frame out', { data: preview(data, secret) })),
    // `state` also fires for counters; the timeline shows status changes only.
    connection.on('state', (state) => {
      // Shared across tabs: which tab holds the socket (this one leads, or follows another).
      if (state.role !== role) add('role', { from: role, to: (role = state.role) })
      if (state.status === status) return
      // Each socket is one attempt: its group starts with the move to `connecting`.
      if (state.status === 'connecting') groupId = `${id} #${++attempt}`
      add('status', { from: status, to: state.status, attempt, retries: state.attempt, nextRetryAt: state.nextRetryAt, role: state.role })
      status = state.status
    }),
    connection.on('open', ({ protocol }) => add('open', { protocol: redactProtocols(protocol, connection.options.tokenProtocol).join(',') })),
    connection.on('close', (info) => add('close', { ...info }, info.wasClean ? 'default' : 'warning')),
    connection.on('error', (info) => add('error', { kind: info.kind, message: redactSecrets(info.message) }, 'error')),
  ]
  return () => removers.forEach((remove) => remove())
}
