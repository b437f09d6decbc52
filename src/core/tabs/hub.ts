/**
 * The leader's side of a shared socket: owns the one real `Connection` of a group for one
 * leadership term (in the leader tab, or in a SharedWorker), posts its state, its inbound
 * frames (once, batched per microtask) and its events to the other tabs, and writes what they
 * send. A new term gets a new hub and a new socket; a hub never outlives its term.
 */
import { Connection, sendTagged, takeQueued } from '../connection'
import type { OutboxEntry } from '../outbox'
import { PROTOCOL } from '../protocol'
import { jsonSerializer } from '../serializer'
import type { FrameSettled } from '../writer'
import type {
  CloseInfo,
  ConnectionOptions,
  ConnectionState,
  EnvironmentEvent,
  RealtimeEnvironment,
  RealtimeErrorInfo,
  SendOptions,
  SendResult,
  TimerHandle,
  WebSocketData,
} from '../types'
import { ChannelMux, type Delivery } from './channelMux'
import { BEAT_MS } from './leaderWatch'
import { Encoded, laterCommand, shareState, type CommandRecord, type LeaderMessage, type TabMessage } from './wire'

type Body<M> = M extends unknown ? Omit<M, 'e' | 'from'> : never
/** Who sent a queued message: another tab's send (its id there), or `null` for the leader tab's own. */
type SendTag = { from: string; id: number } | null
export type LeaderBody = Body<LeaderMessage>

/** The leader tab's own consumers, served directly (no cloning, no decoding twice). */
export interface LocalView<In> {
  /** Every leader message, synchronously; `error` carries the original error (with its cause). */
  leader(message: LeaderMessage): void
  message(data: In): void
  frame(event: 'frameIn' | 'frameOut', data: unknown): void
}

export interface HubOptions<In, Out> {
  url: string
  /** The connection's options (functions included: the hub runs in the tab or worker that has them). */
  options: ConnectionOptions<In, Out>
  env: RealtimeEnvironment
  epoch: number
  /** The last command carried out before this term, as far as the leader knows (see `CommandRecord`). */
  command?: CommandRecord | null
  /** The leader's tab id. */
  id: string
  /** Posts to every other tab of the group. */
  post: (message: LeaderMessage) => void
  local?: LocalView<In>
  /** The token to connect with, read on every attempt. */
  token: () => string | null | undefined
  /** Is the hub's own page visible? (A worker has no page: never.) */
  visible: () => boolean
  /**
   * Calls `gone` once the tab is gone, even if it crashed (it waits for a lock the tab holds
   * while it lives); returns the canceller. Without it, only a tab's `leave` tells.
   */
  watch?: (tab: string, gone: () => void) => () => void
}

export class Hub<In = unknown, Out = unknown> {
  readonly epoch: number
  readonly id: string
  /** The group's real connection for this term. */
  readonly connection: Connection<In, Out>
  readonly #options: HubOptions<In, Out>
  /** The other tabs that said hello, and whether each is visible. */
  readonly #tabs = new Map<string, boolean>()
  /** Cancels the watch of each tab that said it holds its lock. */
  readonly #watched = new Map<string, () => void>()
  readonly #envListeners = new Set<(event: EnvironmentEvent) => void>()
  readonly #stops: Array<() => void>
  /** Routes the frames of a socket that speaks the project's protocol (see `ChannelMux`). */
  readonly #mux: ChannelMux | null
  #visible: boolean
  /** Inbound frames not posted yet, all with the same addressing. */
  #batch: { data: unknown[]; to?: string[] } | null = null
  #protocol = ''
  /** `open` was emitted for the socket in hand (cleared by its close). */
  #opened = false
  /** By tab, the last of its sends this term handled (ids grow per tab; the channel keeps their order). */
  readonly #handled = new Map<string, number>()
  /** Another tab's send waits in the outbox: say `flushed` once it is empty. */
  #tabsQueued = false
  #beat: TimerHandle | null = null
  /** The last command carried out (see `CommandRecord`). */
  #command: CommandRecord | null
  /** Bumped on every state posted: a command that changed nothing posts one to say it was done. */
  #posted = 0
  #started = false
  #disposed = false

  constructor(options: HubOptions<In, Out>) {
    this.#options = options
    this.epoch = options.epoch
    this.id = options.id
    this.#command = options.command ?? null
    const { env, local } = options
    this.#visible = options.visible()
    const serializer = options.options.serializer ?? (jsonSerializer as NonNullable<ConnectionOptions<In, Out>['serializer']>)
    let raw: unknown
    this.connection = new Connection<In, Out>(options.url, {
      ...options.options,
      shareAcrossTabs: undefined,
      // The tab owns page-hide: it hands the socket over instead of pausing it.
      closeOnPageHide: false,
      token: options.token,
      serializer: {
        // Other tabs encode their own sends (so that encoding errors throw in the tab that sent).
        encode: (value) => (value instanceof Encoded ? value.data : serializer.encode(value as Out)),
        decode: (data) => {
          const message = serializer.decode(data)
          raw = data
          return message
        },
      },
      // Retries and probes follow the group's visibility, not only this page's: a hidden leader
      // must still reconnect while another tab shows the connection.
      environment: {
        ...env,
        isVisible: () => this.#visible,
        subscribe: (listener) => {
          this.#envListeners.add(listener)
          return () => this.#envListeners.delete(listener)
        },
      },
    })
    const c = this.connection
    this.#mux = [options.options.protocols ?? []].flat().includes(PROTOCOL)
      ? new ChannelMux((frame) => c.send(new Encoded(frame) as Out, { volatile: true }))
      : null
    this.#stops = [
      env.subscribe((event) => {
        if (event.type === 'online' || event.type === 'offline') this.#envEvent(event)
        else if (event.type === 'visible' || event.type === 'hidden') this.#visibility()
      }),
      c.on('state', (state) => this.#state(state)),
      c.on('open', ({ protocol }) => {
        this.#protocol = protocol
        this.#opened = true
        this.#emit({ t: 'open', protocol })
      }),
      c.on('message', (data) => {
        if (this.#mux) for (const delivery of this.#mux.inbound(raw)) this.#deliver(delivery)
        else {
          this.#deliver({ raw: raw as string })
          local?.message(data)
        }
      }),
      c.on('close', (info) => {
        this.#opened = false
        this.#mux?.reset()
        // Not before the term is announced (a term that starts closed): its `lead` comes first.
        if (this.#started) this.#emit({ t: 'close', info })
      }),
      c.on('error', (error) => this.#emit({ t: 'error', error: { kind: error.kind, message: error.message } }, error)),
    ]
    if (local) this.#stops.push(c.on('frameIn', ({ data }) => local.frame('frameIn', data)), c.on('frameOut', ({ data }) => local.frame('frameOut', data)))
  }

  /**
   * Announces the term (with the state after `open`, so tabs never see a new leader idle), then
   * beats. `closed`: the user had closed the socket; the term starts closed the same way.
   */
  start(open: boolean, stolen: boolean, closed?: Pick<CloseInfo, 'code' | 'reason'> | null): void {
    if (open) this.connection.open()
    else if (closed) this.connection.close(closed.code, closed.reason)
    this.#started = true
    this.#emit({ t: 'lead', state: this.#shared(this.connection.state), stolen })
    this.#scheduleBeat()
  }

  /** A message from another tab. */
  receive(message: TabMessage): void {
    switch (message.t) {
      case 'hello':
        this.#seen(message)
        this.#visibility()
        this.#emit({ t: 'snap', to: message.from, state: this.#shared(this.connection.state), handled: this.#handled.get(message.from) ?? 0 })
        if (this.#mux && this.connection.status === 'open') for (const delivery of this.#mux.joined(message.from)) this.#deliver(delivery)
        return
      case 'vis':
        this.#seen(message)
        return this.#visibility()
      case 'leave':
        this.#tabs.delete(message.from)
        this.#watched.get(message.from)?.()
        this.#watched.delete(message.from)
        this.#mux?.left(message.from)
        return this.#visibility()
      case 'ping':
        return this.#emit({ t: 'pong', to: message.from })
      case 'send': {
        if (!this.#mine(message)) return
        if (!message.volatile) {
          // Handled already (sent again by a tab that missed the answer): never written twice.
          if (message.id <= (this.#handled.get(message.from) ?? 0)) return this.#emit({ t: 'ok', to: message.from, id: message.id, result: 'queued' })
          this.#handled.set(message.from, message.id)
        }
        const result = this.#mux?.outbound(message.from, message.data) === false ? 'sent' : this.#write(message.data, message, { from: message.from, id: message.id })
        if (message.volatile) return
        if (result === 'queued') this.#tabsQueued = true
        return this.#emit({ t: 'ok', to: message.from, id: message.id, result })
      }
      case 'frame': {
        if (!this.#mine(message)) return
        const { from, id } = message
        this.writeFrame(new Encoded(message.data), (written) => this.#emit({ t: 'wrote', to: from, id, written }), from)
        return
      }
      case 'cmd':
        if (this.#mine(message)) this.command(message.command)
    }
  }

  /** A send of the leader tab's own consumers (throws as `Connection.send` does). Queued, it is tagged `null`: see `dispose`. */
  write(data: unknown, options: SendOptions = {}): SendResult {
    if (this.#mux && (typeof data === 'string' || data instanceof Encoded) && !this.#mux.outbound(this.id, data instanceof Encoded ? data.data : data)) return 'sent'
    return sendTagged(this.connection, data as Out, options, null, this.#gone)
  }

  /** Tells each tab which of its queued sends left the outbox to make room (see `gone` in wire.ts). */
  readonly #gone = (tags: unknown[]): void => {
    const ids: Record<string, number[]> = {}
    for (const tag of tags as SendTag[]) if (tag) (ids[tag.from] ??= []).push(tag.id)
    if (Object.keys(ids).length > 0) this.#emit({ t: 'gone', ids, dropped: this.connection.state.dropped })
  }

  /** A frame (of `tab`, this one by default) written once on this socket, or reported unwritten (see `Connection.sendFrame`). */
  writeFrame(data: unknown, settled?: FrameSettled, tab = this.id): SendResult {
    const mux = this.#mux
    if (!mux || !(typeof data === 'string' || data instanceof Encoded)) return this.connection.sendFrame(data as Out, settled)
    const raw = data instanceof Encoded ? data.data : data
    if (!mux.outbound(tab, raw)) {
      settled?.(true)
      return 'sent'
    }
    return this.connection.sendFrame(data as Out, (written) => {
      if (!written) mux.unwritten(tab, raw)
      settled?.(written)
    })
  }

  /**
   * Carries out a tab's `open`, `close` or `reconnect`, unless it was carried out already or a
   * later one was (by this term or one before), which stands. `open` opens a socket that is not
   * open (idle, closing or closed by a user, failed); it never cuts short a retry's wait: that is
   * `reconnect`.
   */
  command(command: CommandRecord): void {
    if (!laterCommand(command, this.#command)) return
    this.#command = command
    const posted = this.#posted
    const c = this.connection
    if (command.op === 'close') c.close(command.code, command.reason)
    else if (command.op === 'reconnect') c.reconnect()
    else if (c.status !== 'reconnecting') c.open()
    // Nothing changed (open while open): the tabs still learn that it was done.
    if (this.#posted === posted) this.#state(this.connection.state)
  }

  /**
   * Ends the term and closes the socket. Nothing still queued is written or dropped: the `bye`
   * tells each tab that follows this term which of the sends it confirmed as queued were never
   * written (`unsent`, by tab); with those and the ones it has not confirmed, the tab sends them
   * again to the next leader. Tabs that already follow a newer term drop it. Returns the leader
   * tab's own queued sends, never written either, for the tab to hand to the next leader.
   */
  dispose(): OutboxEntry[] {
    if (this.#disposed) return []
    this.#disposed = true
    this.#options.env.clearTimeout(this.#beat)
    for (const stop of [...this.#stops, ...this.#watched.values()]) stop()
    const own: OutboxEntry[] = []
    const unsent: Record<string, number[]> = {}
    for (const entry of takeQueued(this.connection)) {
      const tag = entry.tag as SendTag
      if (tag === null || tag === undefined) own.push(entry)
      else (unsent[tag.from] ??= []).push(tag.id)
    }
    const { received, sent, dropped } = this.connection.state
    this.#emit({ t: 'bye', unsent, handled: Object.fromEntries(this.#handled), counted: { received, sent, dropped } })
    this.connection.dispose()
    return own
  }

  /** Meant for this term: its epoch, and its leader (another leader may have had the same epoch). */
  #mine({ e, to }: { e: number; to?: string }): boolean {
    return e === this.epoch && (to === undefined || to === this.id)
  }

  #seen({ from, visible, alive }: { from: string; visible: boolean; alive?: boolean }): void {
    this.#tabs.set(from, visible)
    const watch = this.#options.watch
    // Only once the tab holds its lock: waiting for it earlier could be granted at once.
    if (alive && watch && !this.#watched.has(from)) this.#watched.set(from, watch(from, () => this.receive({ t: 'leave', from })))
  }

  #write(data: WebSocketData, options: SendOptions, tag: SendTag): SendResult {
    try {
      return sendTagged(this.connection, new Encoded(data) as Out, { volatile: options.volatile, ttl: options.ttl }, tag, this.#gone)
    } catch (error) {
      // Only a full outbox under `overflow: 'error'` throws here (the data is encoded already).
      this.#emit({ t: 'error', error: { kind: 'dropped', message: (error as Error).message } })
      return 'dropped'
    }
  }

  #shared(state: ConnectionState) {
    return shareState(state, this.#protocol, this.#opened, this.#command)
  }

  #state(state: ConnectionState): void {
    if (!this.#started) return
    this.#posted++
    this.#emit({ t: 'state', state: this.#shared(state) })
    if (this.#tabsQueued && state.queued === 0) {
      this.#tabsQueued = false
      this.#emit({ t: 'flushed', handled: Object.fromEntries(this.#handled) })
    }
  }

  /**
   * Batches an inbound frame for the other tabs (one post per microtask, per addressing).
   * With the mux, the leader tab's own consumers get their frames this way too.
   */
  #deliver({ raw, to }: Delivery): void {
    const batch = this.#batch
    if (batch && String(batch.to) !== String(to)) this.#flushFrames()
    if (!this.#batch) {
      this.#batch = { data: [], to }
      queueMicrotask(() => this.#flushFrames())
    }
    this.#batch.data.push(raw)
  }

  #flushFrames(): void {
    const batch = this.#batch
    if (!batch) return
    this.#batch = null
    const message: LeaderMessage = { t: 'frames', e: this.epoch, from: this.id, data: batch.data }
    if (batch.to) message.to = batch.to
    if (this.#tabs.size > 0 && !(batch.to?.length === 1 && batch.to[0] === this.id)) this.#post(message)
    // The local view picks what is addressed to it, as the other tabs do.
    if (this.#mux) this.#options.local?.leader(message)
  }

  /** Posts to the other tabs (after the frames batched so far: order is kept) and serves the local view. */
  #emit(body: LeaderBody, error?: RealtimeErrorInfo): void {
    if (this.#disposed && body.t !== 'bye') return
    const message = { ...body, e: this.epoch, from: this.id } as LeaderMessage
    this.#flushFrames()
    this.#post(message)
    this.#options.local?.leader(error ? ({ ...message, error } as LeaderMessage) : message)
  }

  #post(message: LeaderMessage): void {
    try {
      this.#options.post(message)
    } catch {
      // The channel closed under us (the page is going away): the other tabs will hear the lock.
    }
  }

  #scheduleBeat(): void {
    this.#beat = this.#options.env.setTimeout(() => {
      if (this.#tabs.size > 0) this.#emit({ t: 'beat' })
      this.#scheduleBeat()
    }, BEAT_MS)
  }

  #visibility(): void {
    const visible = this.#options.visible() || [...this.#tabs.values()].some(Boolean)
    if (visible === this.#visible) return
    this.#visible = visible
    this.#envEvent({ type: visible ? 'visible' : 'hidden' })
  }

  #envEvent(event: EnvironmentEvent): void {
    for (const listener of [...this.#envListeners]) listener(event)
  }
}
