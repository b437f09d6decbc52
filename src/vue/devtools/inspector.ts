/**
 * The inspector: one node per connection of the app's manager, with a child per channel
 * (topic of the protocol client on that connection). A connection shows its status, role,
 * retries, outbox and the last close explained; a channel its last (epoch, seq), presence and
 * pending publishes. Everything shown is a copy, with credentials redacted.
 */
import type { Connection } from '../../core'
import { ProtocolClient, type ChannelSnapshot } from '../../core/protocolClient'
import type { ConnectionState, ConnectionStatus } from '../../core/types'
import type { InspectorNode, InspectorNodeTag, InspectorState } from './hook'
import { redactSecrets } from '../../core/redact'
import { displayKey } from '../../core/url'

const WHITE = 0xffffff
const DARK = 0x1f2937
/** Tag colours by status: green when usable, amber while trying, red when given up, grey at rest. */
const STATUS_COLORS: Record<ConnectionStatus, number> = {
  idle: 0x9ca3af,
  connecting: 0xf59e0b,
  open: 0x42b883,
  closing: 0x9ca3af,
  reconnecting: 0xf59e0b,
  offline: 0x6b7280,
  closed: 0x9ca3af,
  failed: 0xef4444,
}

/** Which tab holds the socket: `leader`, `follower`, or `solo` (not shared across tabs). */
const roleOf = (state: Readonly<ConnectionState>): string => state.role

function tag(label: string, backgroundColor: number, tooltip?: string): InspectorNodeTag {
  return { label, textColor: backgroundColor === WHITE ? DARK : WHITE, backgroundColor, ...(tooltip ? { tooltip } : {}) }
}

const channelId = (connectionId: string, topic: string): string => `${connectionId}/${topic}`

function channelNode(connectionId: string, channel: ChannelSnapshot): InspectorNode {
  const position = channel.seq === 0 ? 'no message yet' : `seq ${channel.seq}`
  return {
    id: channelId(connectionId, channel.topic),
    label: channel.topic,
    tags: [
      channel.subscribed ? tag(position, STATUS_COLORS.open, channel.epoch ? `epoch ${channel.epoch}` : undefined) : tag('joining', STATUS_COLORS.connecting),
      ...(channel.pending > 0 ? [tag(`${channel.pending} unacked`, STATUS_COLORS.connecting)] : []),
    ],
  }
}

function connectionState(connection: Connection): InspectorState {
  const state = connection.state
  const close = state.lastClose
  const client = ProtocolClient.peek(connection)
  const sections: InspectorState = {
    connection: [
      { key: 'url', value: redactSecrets(connection.url) },
      { key: 'key', value: displayKey(connection.url, connection.protocols, connection.options.tokenProtocol) },
      { key: 'status', value: state.status },
      { key: 'role', value: roleOf(state) },
      { key: 'readyState', value: state.readyState },
      { key: 'retries', value: state.attempt },
      { key: 'nextRetryAt', value: state.nextRetryAt === null ? null : new Date(state.nextRetryAt).toISOString() },
      { key: 'latency (ms)', value: state.latency },
      { key: 'error', value: state.error ? `${state.error.kind}: ${redactSecrets(state.error.message)}` : null },
    ],
    outbox: [
      { key: 'queued', value: state.queued },
      { key: 'dropped', value: state.dropped },
      { key: 'sent', value: state.sent },
      { key: 'received', value: state.received },
    ],
    'last close': close
      ? [
          { key: 'code', value: close.code },
          { key: 'name', value: close.name },
          { key: 'meaning', value: close.description },
          { key: 'reason', value: close.reason },
          { key: 'wasClean', value: close.wasClean },
          { key: 'retryable', value: close.retryable },
        ]
      : [{ key: 'code', value: null }],
  }
  if (client) {
    sections.protocol = [
      { key: 'clientId', value: client.clientId },
      { key: 'channels', value: client.channels().length },
      { key: 'invalid frames', value: client.invalidFrames },
    ]
  }
  return sections
}

function channelState(connection: Connection, channel: ChannelSnapshot): InspectorState {
  return {
    channel: [
      { key: 'topic', value: channel.topic },
      { key: 'subscribed', value: channel.subscribed },
      { key: 'consumers', value: channel.listeners },
      { key: 'unacked publishes', value: channel.pending },
      { key: 'connection', value: redactSecrets(connection.url) },
    ],
    'last position': [
      { key: 'epoch', value: channel.epoch ?? null },
      { key: 'seq', value: channel.seq },
    ],
    presence: channel.presence.map((member) => ({
      key: member.clientId,
      value: { online: member.online, lastSeen: new Date(member.lastSeen).toISOString(), user: member.user },
    })),
  }
}

/** The inspector's view of a set of connections, each known by a stable, secret-free id. */
export class Inspector {
  readonly #ids = new Map<Connection, string>()
  #next = 0

  add(connection: Connection): string {
    let id = this.#ids.get(connection)
    if (!id) this.#ids.set(connection, (id = `connection-${++this.#next}`))
    return id
  }

  remove(connection: Connection): void {
    this.#ids.delete(connection)
  }

  /** Forgets every connection (the devtools stopped: the app is gone). */
  clear(): void {
    this.#ids.clear()
  }

  /** The tree, keeping connections whose URL or a topic contains `filter`. */
  tree(filter = ''): InspectorNode[] {
    const needle = filter.trim().toLowerCase()
    const nodes: InspectorNode[] = []
    for (const [connection, id] of this.#ids) {
      const label = redactSecrets(connection.url)
      const state = connection.state
      const channels = ProtocolClient.peek(connection)?.channels() ?? []
      const matches = (text: string): boolean => text.toLowerCase().includes(needle)
      if (needle && !matches(label) && !channels.some((c) => matches(c.topic))) continue
      nodes.push({
        id,
        label,
        tags: [
          tag(state.status, STATUS_COLORS[state.status], state.lastClose ? `last close: ${state.lastClose.code} ${state.lastClose.name}` : undefined),
          ...(roleOf(state) !== 'solo' ? [tag(roleOf(state), WHITE)] : []),
          ...(state.attempt > 0 ? [tag(`retry ${state.attempt}`, STATUS_COLORS.reconnecting)] : []),
          ...(state.queued > 0 ? [tag(`${state.queued} queued`, STATUS_COLORS.connecting)] : []),
        ],
        children: channels.map((channel) => channelNode(id, channel)),
      })
    }
    return nodes
  }

  /** The state of a connection or channel node, or undefined for an unknown id. */
  state(nodeId: string): InspectorState | undefined {
    for (const [connection, id] of this.#ids) {
      if (nodeId === id) return connectionState(connection)
      if (!nodeId.startsWith(`${id}/`)) continue
      const topic = nodeId.slice(id.length + 1)
      const channel = ProtocolClient.peek(connection)?.channels().find((c) => c.topic === topic)
      return channel ? channelState(connection, channel) : undefined
    }
    return undefined
  }
}
