/**
 * The page the tab-sharing browser tests open (bundled by esbuild, served on 127.0.0.1): one
 * connection through the framework-free core, shared across tabs unless `?share=off`.
 * `?mode=plain` uses a plain socket (`/plain`), `?mode=protocol` subscribes to the topic
 * `stream` of the protocol server (`/ws`); `?via=worker` shares through the SharedWorker
 * `/worker.js` instead of Web Locks; `?share=plain` passes the plain option (`true`, or
 * `{ via: 'worker', worker }`) instead of `tabSharing(...)`. Everything a test reads is on
 * `window.tab`.
 */
import { ConnectionManager, ProtocolClient, protocolConnectionOptions, tabSharing, type ConnectionOptions, type ConnectionState } from '../../../src/core'

const params = new URLSearchParams(location.search)
const mode = params.get('mode') ?? 'plain'
const now = (): number => performance.timeOrigin + performance.now()

interface Event {
  at: number
  what: string
  detail?: unknown
}

const state = {
  /** Plain mode: every message, in order. */
  messages: [] as unknown[],
  /** Protocol mode: the seq of every `stream` message, in order. */
  seqs: [] as number[],
  /** Ticks while the page runs (it stops while the page is paused in the debugger). */
  counter: 0,
  roles: [] as string[],
  statuses: [] as string[],
  events: [] as Event[],
  pageshows: [] as boolean[],
  early: [] as string[],
}

const log = (what: string, detail?: unknown): void => {
  state.events.push({ at: now(), what, detail })
}

const worker = (): SharedWorker => new SharedWorker('/worker.js', { type: 'module', name: 'vue-realtime-test' })
const via = params.get('via')
const share = params.get('share')
// `share=plain`: the contract's plain values (the tab code loads on first use); default: tabSharing().
const shareAcrossTabs: ConnectionOptions['shareAcrossTabs'] =
  share === 'off'
    ? undefined
    : share === 'plain'
      ? via === 'worker'
        ? { via: 'worker', worker }
        : true
      : tabSharing(via === 'worker' ? { via: 'worker', worker } : {})
const manager = new ConnectionManager({ shareAcrossTabs, idleTimeout: 0 })
const connection = manager.acquire(mode === 'protocol' ? '/ws' : '/plain', mode === 'protocol' ? protocolConnectionOptions : { heartbeat: false })
/** `?early`: sends in the task that acquired, before any dynamic import can have loaded. */
const early = params.has('early') ? [connection.constructor.name, connection.state.role, connection.send('early 1'), connection.send('early 2')] : []
connection.on('state', (s: ConnectionState) => {
  if (state.roles.at(-1) !== s.role) {
    state.roles.push(s.role)
    log('role', s.role)
  }
  if (state.statuses.at(-1) !== s.status) {
    state.statuses.push(s.status)
    log('status', s.status)
  }
})
connection.on('open', () => log('open'))
connection.on('close', (info) => log('close', info.code))

let client: ProtocolClient | undefined
if (mode === 'protocol') {
  client = ProtocolClient.for(connection)
  client.subscribe('stream', {
    message(frame) {
      state.seqs.push(frame.seq!)
      log('seq', frame.seq)
      // The bench times arrivals on its own clock (one clock for every page).
      ;(window as unknown as { benchMark?: (seq: number) => void }).benchMark?.(frame.seq!)
    },
  })
} else {
  connection.on('message', (message) => {
    state.messages.push(message)
    log('message', message)
  })
}

state.early = early
setInterval(() => state.counter++, 20)
addEventListener('pageshow', (event) => state.pageshows.push(event.persisted))

const tab = {
  state,
  info: () => ({ role: connection.state.role, status: connection.state.status, uncertain: connection.state.uncertain }),
  send: (data: unknown) => connection.send(data as string),
  publish: (topic: string, data: unknown, id?: string) => client!.publish(topic, data, { id }).then((ack) => ack.seq),
}
;(window as unknown as { tab: typeof tab }).tab = tab
