/**
 * The world the model-based tests drive: one `ConnectionManager`, a browser environment whose
 * events reach every connection, and per URL a counted environment (timers, listeners) and a
 * socket constructor, so every invariant is checked against what the core really holds.
 */
import type { Connection } from '../../src/core/connection'
import { ConnectionManager } from '../../src/core/manager'
import { resolveEnvironment } from '../../src/core/environment'
import type { ConnectionOptions, EnvironmentEvent, RealtimeEnvironment, WebSocketConstructor, WebSocketLike } from '../../src/core/types'

/** The browser: online/visibility flags and the event listeners of every connection. */
export class Browser {
  online = true
  visible = true
  skew = 0
  readonly #listeners = new Set<(event: EnvironmentEvent) => void>()

  emit(event: EnvironmentEvent): void {
    if (event.type === 'online' || event.type === 'offline') this.online = event.type === 'online'
    if (event.type === 'visible' || event.type === 'hidden') this.visible = event.type === 'visible'
    for (const listener of [...this.#listeners]) listener(event)
  }

  /** An environment on this browser whose timers and subscriptions are counted. */
  environment(): CountedEnvironment {
    const base = resolveEnvironment()
    const timers = new Set<unknown>()
    const subscriptions = new Set<unknown>()
    const env: CountedEnvironment = {
      ...base,
      now: () => Date.now() + this.skew,
      random: () => 0.5,
      isOnline: () => this.online,
      isVisible: () => this.visible,
      setTimeout(fn, ms) {
        const handle: unknown = base.setTimeout(() => {
          timers.delete(handle)
          fn()
        }, ms)
        timers.add(handle)
        return handle
      },
      clearTimeout(handle) {
        timers.delete(handle)
        base.clearTimeout(handle)
      },
      subscribe: (listener) => {
        const wrapped = (event: EnvironmentEvent) => listener(event)
        subscriptions.add(wrapped)
        this.#listeners.add(wrapped)
        return () => {
          subscriptions.delete(wrapped)
          this.#listeners.delete(wrapped)
        }
      },
      get timers() {
        return timers.size
      },
      get listeners() {
        return subscriptions.size
      },
    }
    return env
  }
}

export type CountedEnvironment = RealtimeEnvironment & { readonly timers: number; readonly listeners: number }

/** A socket the test plays the server of. `live` until terminated or closed. */
export class ModelSocket implements WebSocketLike {
  readyState = 0
  bufferedAmount = 0
  protocol = ''
  binaryType = 'blob'
  readonly sent: unknown[] = []
  terminated = false
  /** Pings written since the last pong the server sent. */
  unansweredPings = 0
  onopen: WebSocketLike['onopen'] = null
  onmessage: WebSocketLike['onmessage'] = null
  onclose: WebSocketLike['onclose'] = null
  onerror: WebSocketLike['onerror'] = null

  get live(): boolean {
    return !this.terminated && this.readyState < 3
  }

  send(data: unknown): void {
    if (this.readyState !== 1) throw new Error('InvalidStateError: not open')
    this.sent.push(data)
    if (data === 'ping') this.unansweredPings++
  }

  close(): void {
    if (this.readyState < 2) this.readyState = 2
  }

  terminate(): void {
    this.terminated = true
    this.readyState = 3
  }

  // ── the server's side ──
  accept(): void {
    this.readyState = 1
    this.onopen?.({})
  }
  receive(data: unknown): void {
    this.onmessage?.({ data })
  }
  serverClose(code: number, reason = ''): void {
    this.readyState = 3
    this.onclose?.({ code, reason, wasClean: code !== 1006 })
  }
  refuse(): void {
    this.readyState = 3
    this.onerror?.({ message: 'connect ECONNREFUSED' })
    this.onclose?.({ code: 1006, reason: '', wasClean: false })
  }
}

export const URLS = ['ws://a.test/one', 'ws://b.test/two'] as const

export interface SendRecord {
  id: string
  result: 'sent' | 'queued' | 'dropped'
}

/** A `sendFrame` call: its result and every `settled` call it got. */
export interface FrameRecord {
  id: string
  result: 'sent' | 'queued' | 'dropped'
  settled: boolean[]
}

/** What the invariants read of a socket, fake or real. */
export interface TrackedSocket {
  readonly readyState: number
  /** Neither closed nor terminated. */
  readonly live: boolean
  /** Every frame written to it. */
  readonly sent: unknown[]
}

/** Per URL: its environment, its sockets, the options every acquirer passes. */
export interface Site<S extends TrackedSocket = TrackedSocket> {
  env: CountedEnvironment
  sockets: S[]
  options: ConnectionOptions
}

export interface Consumer {
  site: number
  connection: Connection
}

/** What the user did to a connection last: a user close must stick until the user opens again. */
export interface ConnectionRecord {
  site: number
  userClosed: boolean
  /** Sockets of the site when the user closed it. */
  socketsAtClose: number
  sends: SendRecord[]
  frames: FrameRecord[]
  serial: number
}

export class World<S extends TrackedSocket = ModelSocket> {
  readonly browser = new Browser()
  readonly managerEnv: CountedEnvironment
  readonly manager: ConnectionManager
  readonly sites: Site<S>[]
  readonly urls: readonly string[]
  readonly consumers: Consumer[] = []
  readonly records = new Map<Connection, ConnectionRecord>()
  /** Moves the clock `ms` ahead, firing due timers (fake timers, or a real wait). */
  advance: (ms: number) => void = () => {}
  #serial = 0
  #messages = 0

  /**
   * @param socketClass the WebSocket constructor of a site; it must push every socket it makes
   *   into `site.sockets` (default: `ModelSocket`s the test plays the server of).
   */
  constructor(
    defaults: ConnectionOptions,
    urls: readonly string[] = URLS,
    socketClass: (site: Site<S>) => WebSocketConstructor = modelSocketClass as unknown as (site: Site<S>) => WebSocketConstructor,
  ) {
    this.urls = urls
    this.managerEnv = this.browser.environment()
    this.manager = new ConnectionManager({ ...defaults, environment: this.managerEnv })
    this.sites = urls.map(() => {
      const env = this.browser.environment()
      const site: Site<S> = { env, sockets: [], options: {} }
      site.options = { environment: env, WebSocket: socketClass(site) }
      return site
    })
  }

  record(connection: Connection, site: number): ConnectionRecord {
    let record = this.records.get(connection)
    if (!record) {
      record = { site, userClosed: false, socketsAtClose: 0, sends: [], frames: [], serial: ++this.#serial }
      this.records.set(connection, record)
    }
    return record
  }

  userClosed(connection: Connection, closed: boolean): void {
    const record = this.records.get(connection)
    if (!record) return
    record.userClosed = closed
    record.socketsAtClose = this.sites[record.site].sockets.length
  }

  nextMessageId(record: ConnectionRecord): string {
    return `${record.serial}:${++this.#messages}`
  }

  /** The socket the server side acts on: the site's newest live one. */
  current(site: number): S | undefined {
    const { sockets } = this.sites[site]
    for (let i = sockets.length - 1; i >= 0; i--) if (sockets[i].live) return sockets[i]
    return undefined
  }
}

function modelSocketClass(site: Site<ModelSocket>): WebSocketConstructor {
  return class extends ModelSocket {
    constructor() {
      super()
      site.sockets.push(this)
    }
  }
}
