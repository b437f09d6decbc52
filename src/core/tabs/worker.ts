/**
 * `serveTabs()`: the SharedWorker side of `shareAcrossTabs: { via: 'worker' }`. The worker holds one
 * socket per group (URL + subprotocols + name) for every tab that connects, for as long as one
 * does, and relays it over each tab's port with the messages of the BroadcastChannel
 * transport. It never hands over: a worker lives until its last tab is gone, unless the browser
 * ends it (a crash, memory pressure): then its tabs notice that it went silent and start a new
 * one with the app's factory (see `TabConnection`), which opens a new socket.
 */
import { resolveEnvironment } from '../environment'
import { mergeOptions } from '../manager'
import { jsonSerializer } from '../serializer'
import type { ConnectionOptions, LockManagerLike, MessagePortLike, TimerHandle } from '../types'
import { Hub } from './hub'
import { tabId, type TabMessage } from './wire'
import type { JoinMessage } from './workerTransport'

/** The subset of `SharedWorkerGlobalScope` used: its `connect` event. */
export interface SharedWorkerScopeLike {
  addEventListener(type: 'connect', listener: (event: { ports: readonly MessagePortLike[] }) => void): void
  removeEventListener(type: 'connect', listener: (event: { ports: readonly MessagePortLike[] }) => void): void
}

interface Group {
  key: string
  /** Each port's lock name (the tab holds it from before it joins until its port closes). */
  names: Map<MessagePortLike, string>
  hub: Hub
  /** The ports of this group, each with the ids of the tab connections that spoke on it. */
  ports: Map<MessagePortLike, Set<string>>
  /** The latest token a tab gave (on joining or through `reconnect()`). */
  token: string | null
  idle: TimerHandle | null
}

const DEFAULT_IDLE_TIMEOUT = 1_000

/**
 * Serves the tabs that connect to this SharedWorker. Call it once in the worker's script:
 * `import { serveTabs } from 'vue-realtime/core'; serveTabs({ heartbeat: { interval: 20_000 } })`.
 * Options that are functions (`serializer` excepted: frames are relayed undecoded and each tab
 * decodes them) apply here; the tabs send the rest of their own connection options.
 * Returns a function that stops serving and closes every socket.
 */
export function serveTabs(defaults: ConnectionOptions = {}, scope = globalThis as unknown as SharedWorkerScopeLike): () => void {
  const env = resolveEnvironment(defaults.environment)
  const locks = env.locks ?? (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator?.locks
  const groups = new Map<string, Group>()
  const joined = new Map<MessagePortLike, Group>()
  let lastEpoch = 0

  const part = (port: MessagePortLike, group: Group): void => {
    const ids = group.ports.get(port)
    if (!ids) return
    group.ports.delete(port)
    group.names.delete(port)
    joined.delete(port)
    for (const id of ids) group.hub.receive({ t: 'leave', from: id })
    try {
      port.close()
    } catch {
      // Already closed by the tab.
    }
    if (group.ports.size > 0) return
    group.idle = env.setTimeout(() => {
      groups.delete(group.key)
      group.hub.dispose()
    }, group.hub.connection.options.idleTimeout ?? DEFAULT_IDLE_TIMEOUT)
  }

  const join = (port: MessagePortLike, message: JoinMessage): void => {
    let group = groups.get(message.group)
    if (!group) {
      const created: Group = (group = { key: message.group, names: new Map(), ports: new Map(), token: message.token, idle: null } as Group)
      created.hub = new Hub({
        url: message.url,
        // Frames go to the tabs as they came; each tab decodes them with its own serializer.
        options: { ...mergeOptions(defaults, message.options), serializer: { encode: jsonSerializer.encode, decode: (data) => data } },
        env,
        // Above every group's before it, whatever the clock did since.
        epoch: (lastEpoch = Math.max(lastEpoch + 1, Math.floor(env.now()))),
        id: `worker ${tabId()}`,
        post: (leaderMessage) => {
          for (const target of created.ports.keys()) target.postMessage(leaderMessage)
        },
        token: () => created.token,
        visible: () => false,
        command: message.command,
      })
      groups.set(message.group, group)
      group.ports.set(port, new Set())
      joined.set(port, group)
      // A port joins to use the socket: open it at once, so the tab never sees it idle; unless the
      // last command it knows of is a close (this worker replaces one that died, or the group idled
      // out): then the group starts closed, as a new leader tab's term does.
      const last = message.command
      const closed = last?.op === 'close' ? { code: last.code ?? 1000, reason: last.reason ?? '' } : null
      group.hub.start(!closed, false, closed)
    } else {
      env.clearTimeout(group.idle)
      group.idle = null
      group.ports.set(port, new Set())
      joined.set(port, group)
      group.token ??= message.token
    }
    group.names.set(port, `${message.group} port ${message.port}`)
  }

  /** The tab holds its port's lock now: getting it means the tab left or crashed (a MessagePort says nothing when its page dies). */
  const watch = (port: MessagePortLike, group: Group): void => {
    const name = group.names.get(port)
    if (name) locks?.request(name, {}, () => part(port, group)).catch(() => {})
  }

  const receive = (port: MessagePortLike, message: TabMessage | JoinMessage | { t: 'part' }): void => {
    if (message.t === 'join') {
      join(port, message)
      return watch(port, joined.get(port)!)
    }
    const group = joined.get(port)
    if (!group) return
    if (message.t === 'part') return part(port, group)
    group.ports.get(port)?.add(message.from)
    if (message.t === 'token') group.token = message.token
    group.hub.receive(message)
  }

  const onConnect = (event: { ports: readonly MessagePortLike[] }): void => {
    const port = event.ports[0]
    if (port) port.onmessage = (e) => receive(port, e.data as TabMessage | JoinMessage)
  }
  scope.addEventListener('connect', onConnect)
  return () => {
    scope.removeEventListener('connect', onConnect)
    for (const group of groups.values()) {
      env.clearTimeout(group.idle)
      group.hub.dispose()
      for (const port of group.ports.keys()) port.close()
    }
    groups.clear()
    joined.clear()
  }
}
