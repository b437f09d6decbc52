/**
 * A tab's handle on a socket shared across tabs. It has the surface of `Connection` (the
 * manager, the composables and the protocol client use it unchanged) and shows the state of
 * the one real connection, wherever it lives: in a `Hub` of this tab while it leads, in another
 * tab's hub (over a BroadcastChannel) or in a SharedWorker (over its port) while it follows.
 *
 * What it guarantees across a hand-over:
 * - inbound frames come from the leader it follows only, each once; an older leader is ignored;
 * - a send stays with this tab until the leader confirms it is written or in its outbox, and is
 *   sent again to the next leader otherwise; a send the lost leader held in its outbox, or that
 *   a leader which was then deposed may still write, counts as `uncertain` and is reported;
 * - the lock is given up on pagehide, on freeze and when the manager drops the connection,
 *   never on `hidden`;
 * - through a SharedWorker, a worker the browser ended is noticed (it stops beating and does not
 *   answer a ping) and replaced: what it was given counts as `uncertain`, the rest goes to the
 *   new one.
 */
import { closeInfo, Connection, IDLE_STATE } from '../connection'
import { Emitter } from '../emitter'
import { callbackThrew, errorMessage } from '../errors'
import { steadyClock } from '../environment'
import { resolveQueue, type OutboxEntry } from '../outbox'
import { redactError, redactSecrets } from '../redact'
import { jsonSerializer } from '../serializer'
import type { FrameSettled } from '../writer'
import type {
  BroadcastChannelLike,
  CloseInfo,
  ConnectionEvents,
  ConnectionOptions,
  ConnectionState,
  ConnectionStatus,
  EnvironmentEvent,
  LockManagerLike,
  RealtimeEnvironment,
  RealtimeErrorInfo,
  SendOptions,
  SendResult,
  Serializer,
  WebSocketData,
} from '../types'
import { Election } from './election'
import { Hub, type LocalView } from './hub'
import { LeaderWatch } from './leaderWatch'
import { OwnedSends, type Due } from './ownedSends'
import { TokenRelay } from './tokenRelay'
import { Encoded, isLeaderMessage, newer, tabId, laterCommand, type Command, type CommandRecord, type LeaderMessage, type SharedState, type TabMessage, type WireMessage } from './wire'

/** How a tab reaches the others: a channel per group, plus Web Locks to elect (none with a worker, which always leads). */
export interface TabTransport {
  /**
   * The tab's channel to `group`. Through a SharedWorker, a port of the worker the app's factory
   * makes (it may throw); `command`, the latest user command the tab knows of, is what a new
   * worker's socket starts with.
   */
  open(group: string, command?: CommandRecord | null): BroadcastChannelLike
  locks?: LockManagerLike
}

/** What this tab shows before any leader spoke (no socket anywhere yet). */
const UNSHARED: SharedState = { ...IDLE_STATE, protocol: '', opened: false, command: null }

/** Until a leader speaks: no socket, and no outbox (the last leader's went with it, or is not this tab's to show). */
const WAITING: Partial<SharedState> = { status: 'connecting', readyState: 0, nextRetryAt: null, opened: false, queued: 0 }

export class TabConnection<In = unknown, Out = unknown> extends Connection<In, Out> {
  readonly #env: RealtimeEnvironment
  readonly #group: string
  readonly #transport: TabTransport
  readonly #id = tabId()
  readonly #emitter = new Emitter<ConnectionEvents<In>>((error, event) => this.#report('callback', callbackThrew(event, error), error))
  readonly #serializer: Serializer<In, Out>
  readonly #election: Election | null
  /** Watches the leader (with Web Locks) or the SharedWorker (without): see `LeaderWatch`. */
  readonly #watch: LeaderWatch
  /** Ports to a SharedWorker opened so far: the worker is replaced at most once per port. */
  #ports = 0
  #bus: BroadcastChannelLike | null = null
  #hub: Hub<In, Out> | null = null
  #stopEnvironment: (() => void) | null = null
  #joined = false
  #suspended = false
  /** The leader's view of the connection (null until a leader spoke). */
  #shared: SharedState | null = null
  /** The term (epoch and leader) whose state is in `#shared`. */
  #sharedTerm: string | null = null
  /**
   * What the connections of earlier terms counted: each term's leader counts from 0 on a
   * connection of its own, but a tab's `received`, `sent` and `dropped` only ever grow (a drop
   * counted before a hand-over must not vanish from `dropped` after it); and `lastClose` keeps
   * the close that ended the last open link until a link of the new term ends.
   */
  readonly #carried: { received: number; sent: number; dropped: number; lastClose: CloseInfo | null } = { received: 0, sent: 0, dropped: 0, lastClose: null }
  #state: ConnectionState = { ...IDLE_STATE, role: 'follower' }
  /** Has `open` been emitted for the current open period? */
  #opened = false
  #epoch = 0
  #leader: string | null = null
  /** The leader of the term `#epoch`, kept while this tab is out of the group (`#leader` is not). */
  #followed: string | null = null
  /** The highest epoch this tab heard of (a new term's epoch is above it). */
  #known = 0
  readonly #owned: OwnedSends
  /** `now` for durations (see `steadyClock`): the ttls of this tab's sends, on the clock of its hub's outbox. */
  readonly #steady: () => number
  /** `sendFrame` outcomes the leader has not told yet, by id. */
  readonly #unsettled = new Map<number, FrameSettled | undefined>()
  #nextFrame = 1
  #dropped = 0
  #uncertain = 0
  /**
   * The latest command this tab knows of, its own or one a leader carried out: asserted to every
   * leader whose state shows an older one (see `CommandRecord`).
   */
  #lastCommand: CommandRecord | null = null
  /** The command last posted (`at` and `from`), and to which term: posted once per term. */
  #asserted: { at: number; from: string; epoch: number } | null = null
  /** By epoch, the leaders of ended terms that sends await, and the cancellers of the waits for them to be gone (see `#awaitEnd`). */
  readonly #ending = new Map<number, { leader: string; cancel: () => void }>()
  /** Releases the lock this tab holds while it is in the group (how the leader learns of a crash). */
  #releaseAlive: (() => void) | null = null
  #alive = false
  #disposed = false
  readonly #token: TokenRelay

  constructor(url: string | URL, options: ConnectionOptions<In, Out>, env: RealtimeEnvironment, group: string, transport: TabTransport) {
    super(url, options)
    this.#env = env
    this.#group = group
    this.#transport = transport
    this.#serializer = options.serializer ?? (jsonSerializer as Serializer<In, Out>)
    // Ttls on the clock of the hub's outbox (its `takeQueued` entries come back to `#keep`).
    this.#steady = steadyClock(env.now)
    this.#owned = new OwnedSends(resolveQueue(options.queue), this.#steady)
    this.#token = new TokenRelay(options.token)
    const locks = transport.locks
    this.#election = locks
      ? new Election(locks, group, { elected: (stolen, above) => this.#elected(stolen, above), deposed: () => this.#stepDown() })
      : null
    const ping = () => this.#post({ t: 'ping', e: this.#epoch, from: this.#id })
    this.#watch = locks
      ? new LeaderWatch(env, { epoch: () => this.#epoch, ping, steal: () => this.#election!.steal() })
      : new LeaderWatch(env, { epoch: () => this.#ports, ping, steal: () => this.#replaceWorker(), hidden: true })
  }

  override get state(): Readonly<ConnectionState> {
    return this.#state
  }

  override get status(): ConnectionStatus {
    return this.#state.status
  }

  override on<K extends keyof ConnectionEvents<In>>(event: K, listener: (payload: ConnectionEvents<In>[K]) => void): () => void {
    return this.#emitter.on(event, listener)
  }

  /** Asks the leader to open the socket (joining the group first, the first time or after a pagehide or freeze). */
  override open(): void {
    if (this.#refuseDisposed('open')) return
    this.#command('open')
    this.#join()
  }

  /** Closes the shared socket, for every tab (as `close()` closes it for every consumer of a tab). */
  override close(code = 1000, reason = ''): void {
    // Out of the group (pagehide, freeze), or while no tab leads: carried out once this tab is
    // back and a tab leads, unless a later command was made meanwhile. It shows closed now.
    if (!this.#hub && this.#leader === null) this.#mirror({ status: 'closed', readyState: 3, lastClose: closeInfo(code, reason, true) })
    this.#command('close', code, reason)
  }

  /** Retries now, with this tab's token if it changed (the leader reconnects with it); out of the group, as `open()`. */
  override reconnect(): void {
    const token = this.#token.changed()
    if (this.#refuseDisposed('reconnect')) return
    if (token !== undefined) this.#post({ t: 'token', from: this.#id, token })
    this.#command(this.#joined ? 'reconnect' : 'open')
    this.#join()
  }

  override send(data: Out | WebSocketData, options: SendOptions = {}): SendResult {
    if (this.#hub) return this.#hub.write(data, options)
    // Encoded here, so an unencodable message throws in the tab that sent it.
    const encoded = this.#serializer.encode(data as Out)
    if (this.#emitter.has('frameOut')) this.#emitter.emit('frameOut', { data: encoded })
    if (options.volatile) {
      if (this.#leader === null || this.#state.status !== 'open') return this.#drop(1, 'volatile')
      this.#post({ t: 'send', e: this.#epoch, to: this.#leader, from: this.#id, id: 0, data: encoded, volatile: true })
      return 'sent'
    }
    const { id, dropped, uncertain } = this.#owned.add(encoded, options.ttl)
    if (dropped > 0) this.#drop(dropped, 'overflow')
    this.#lost(uncertain)
    if (id === 0) return 'dropped'
    // Posted now unless an earlier one awaits an ended term's last word: sends keep their order.
    this.#sendOwned()
    return 'queued'
  }

  /**
   * Writes a frame once on the shared socket in hand, or tells that it was not written (see
   * `Connection.sendFrame`). A frame given to a leader that then stopped answering and was
   * robbed counts as written: that leader may still write it, and a protocol layer must not
   * send it again (a request must never run twice).
   */
  override sendFrame(data: Out | WebSocketData, settled?: FrameSettled): SendResult {
    if (this.#hub) return this.#hub.writeFrame(data, settled)
    const encoded = this.#serializer.encode(data as Out)
    if (this.#leader === null || this.#state.status !== 'open') {
      this.#settle(settled, false)
      return 'dropped'
    }
    const id = this.#nextFrame++
    this.#unsettled.set(id, settled)
    if (this.#emitter.has('frameOut')) this.#emitter.emit('frameOut', { data: encoded })
    this.#post({ t: 'frame', e: this.#epoch, to: this.#leader, from: this.#id, id, data: encoded })
    return 'queued'
  }

  /** This tab is done with the connection (the manager dropped it): hand over or leave the group. */
  leave(): void {
    this.#stopEnvironment?.()
    this.#stopEnvironment = null
    this.#leaveGroup()
    for (const { cancel } of this.#ending.values()) cancel()
    this.#ending.clear()
    // What no leader has of this tab's sends goes with it, counted as dropped (as a disposed
    // Connection counts its outbox); what a leader has may still go out: uncertain.
    const { unposted, posted } = this.#owned.clear()
    this.#dropped += unposted
    this.#uncertain += posted
    this.#publish()
  }

  /** Out of the group for good, or until `open()`: closed, so what waits on it ends. */
  #leaveGroup(): void {
    this.#suspended = false
    this.#part(closeInfo(1000, '', true), 'closed')
    // Out of the group already (pagehide, freeze): closed all the same.
    if (this.#shared?.status !== 'closed') this.#mirror({ status: 'closed', readyState: 3, nextRetryAt: null, queued: 0 })
  }

  /** This tab's app is done with it (unmounted): it leaves the group, the other tabs keep the socket; `open()` joins again. */
  override closeForApp(): void {
    // As `close()` keeps a connection's queue: its sends wait for the leader it finds when it opens again.
    this.#leaveGroup()
  }

  /** The manager's release: hands the socket over (or leaves the group); never closes it for the other tabs. */
  override dispose(): void {
    this.#disposed = true
    this.leave()
    this.#emitter.clear()
  }

  /** After `dispose` this tab never joins the group again: no socket for a connection nobody holds. */
  #refuseDisposed(method: 'open' | 'reconnect'): boolean {
    if (!this.#disposed) return false
    if (process.env.NODE_ENV !== 'production') {
      console.warn(redactSecrets(`[vue-realtime] ${method}() on a disposed connection to ${this.url} does nothing. Acquire a new one from the manager.`))
    }
    return true
  }

  // ── membership ───────────────────────────────────────────────────────────────

  /** Joins the group (what it asks of the socket is the latest command it knows of). */
  #join(): void {
    // Once: an `open()` made while out of the group (pagehide, freeze) brings the tab back, and
    // the resume after it finds it back already.
    if (this.#joined) return
    this.#suspended = false
    this.#joined = true
    // Back from a pagehide or freeze: the last word of a term that sends of this tab awaited may
    // have come and gone meanwhile. They may or may not have gone out: counted, never resent.
    for (const ended of this.#ending.keys()) this.#endedUnheard(ended)
    this.#stopEnvironment ??= this.#env.subscribe((event) => this.#onEnvironment(event))
    this.#connect()
    if (this.#leader === null) this.#mirror(WAITING)
    this.#holdAlive()
    this.#greet('hello')
    this.#election?.join()
    this.#watch.heard()
    this.#watch.start()
  }

  /**
   * Opens this tab's channel to the group. Through a SharedWorker it calls the app's factory,
   * which may throw (the browser refused the worker): then the tab shows the error and stays
   * connecting, its sends kept, and its watch calls the factory again after the same silence as
   * for a worker that died (`#replaceWorker`), backing off while it keeps failing.
   */
  #connect(): void {
    let bus: BroadcastChannelLike
    try {
      bus = this.#transport.open(this.#group, this.#lastCommand && this.#lasting(this.#lastCommand))
    } catch (error) {
      if (this.#election) throw error
      this.#report('socket', `vue-realtime: could not start the shared worker for ${this.url} (${errorMessage(error)}); trying again in a few seconds`, error)
      return
    } finally {
      this.#ports++
    }
    this.#bus = bus
    bus.onmessage = (event) => this.#receive(event.data as WireMessage)
  }

  #disconnect(): void {
    if (!this.#bus) return
    this.#bus.onmessage = null
    this.#bus.close()
    this.#bus = null
  }

  /**
   * Through a SharedWorker: it said nothing for a while and did not answer a ping. The browser
   * ended it (its process crashed or was killed under memory pressure), and a MessagePort says
   * nothing when its other end dies. What it was given it may or may not have written: a frame
   * counts as written, a send as uncertain. What it never had goes to the next worker: this tab
   * calls the app's factory again (a SharedWorker of the same script and name is a new one once
   * the old is gone; tabs that do so at once all reach the same) and joins it as at start.
   */
  #replaceWorker(): void {
    if (!this.#joined || this.#election) return
    this.#settleFrames(true)
    this.#lost(this.#owned.vanished())
    if (this.#leader !== null) this.#leaderGone('shared worker gone')
    this.#disconnect()
    // The new worker hears the latest command again, whatever the last one heard.
    this.#asserted = null
    this.#connect()
    this.#greet('hello')
    this.#watch.heard()
    this.#watch.start()
  }

  /** Leaves the group: hands the socket over if this tab leads, else stops waiting for the lock. */
  #part(info: CloseInfo, status: 'idle' | 'closed'): void {
    if (!this.#joined) return
    this.#joined = false
    this.#watch.stop()
    const hub = this.#hub
    this.#hub = null
    if (hub) this.#keep(hub.dispose())
    else this.#post({ t: 'leave', from: this.#id })
    this.#election?.end()
    this.#releaseAlive?.()
    this.#releaseAlive = null
    this.#alive = false
    this.#disconnect()
    // Answers to what it posted will not reach it now: held by that leader until its term says.
    if (this.#leader !== null) this.#owned.parted(this.#epoch)
    this.#leader = null
    // Frames on their way to the leader may still be written after this tab left: not twice.
    this.#settleFrames(true)
    // Closed by the user: it stays closed (and its lastClose kept) when this tab comes back and leads.
    if (this.#shared?.status === 'closed') return this.#mirror({ queued: 0 })
    this.#closed(info)
    this.#mirror({ status, readyState: 3, nextRetryAt: null, lastClose: info, queued: 0 })
  }

  /** Holds this tab's own lock while it is in the group; says so once it does. */
  #holdAlive(): void {
    const locks = this.#transport.locks
    if (!locks) return
    const abort = new AbortController()
    let release: (() => void) | undefined
    this.#releaseAlive = () => {
      abort.abort()
      release?.()
    }
    locks
      .request(`${this.#group} tab ${this.#id}`, { signal: abort.signal }, () =>
        new Promise<void>((resolve) => {
          release = resolve
          this.#alive = true
          if (!this.#hub) this.#greet('vis')
        }),
      )
      .catch(() => {})
  }

  #onEnvironment(event: EnvironmentEvent): void {
    switch (event.type) {
      case 'pagehide':
      case 'freeze':
        // A page in the bfcache or frozen keeps its lock and starves the others: give it up.
        if (!this.#joined) return
        this.#suspended = true
        return this.#part(closeInfo(1001, 'page hidden', true), 'idle')
      case 'pageshow':
      case 'resume':
        // Back in the group, it asks nothing of the socket: one another tab's user closed meanwhile stays closed.
        if (this.#suspended && (event.type === 'resume' || event.persisted)) this.#join()
        return
      case 'visible':
      case 'hidden':
        // Never a hand-over: a hidden leader keeps leading. Only visible followers watch it (every
        // tab watches a SharedWorker).
        if (!this.#joined || this.#hub) return
        this.#greet('vis', event.type === 'visible')
        if (event.type === 'visible') this.#watch.start()
        else if (this.#election) this.#watch.stop()
    }
  }

  // ── leadership ───────────────────────────────────────────────────────────────

  #elected(stolen: boolean, above = 0): void {
    if (!this.#joined) return this.#election?.leave()
    this.#watch.stop()
    // Above every epoch this tab heard, above any a tab it never heard could have used (the
    // clock, unless set back), and above the term it took the lead from (`above`, in any case).
    const epoch = (this.#known = Math.max(this.#known + 1, Math.floor(this.#env.now()), above + 1))
    this.#election?.holdTerm(epoch)
    // Closed by the user: the new term shows it closed (not idle) until a tab opens it.
    const last = this.#lastCommand
    const closed = last?.op === 'close' ? (this.#shared?.status === 'closed' ? this.#shared.lastClose : null) ?? { code: last.code ?? 1000, reason: last.reason ?? '' } : null
    const bus = this.#bus!
    this.#hub = new Hub<In, Out>({
      url: this.url,
      options: this.options,
      env: this.#env,
      epoch,
      command: last,
      id: this.#id,
      post: (message) => bus.postMessage(message),
      local: this.#localView(),
      token: () => this.#token.current(),
      visible: () => this.#env.isVisible(),
      watch: (tab, gone) => {
        const abort = new AbortController()
        this.#transport.locks?.request(`${this.#group} tab ${tab}`, { signal: abort.signal }, gone).catch(() => {})
        return () => abort.abort()
      },
    })
    this.#hub.start(!closed, stolen, closed)
  }

  /** Another tab leads now (it stole the lock, or this tab heard a newer leader): close this term's socket. */
  #stepDown(): void {
    const hub = this.#hub
    if (!hub) return
    this.#hub = null
    this.#keep(hub.dispose())
    this.#election?.leave()
    this.#leaderGone('lead lost to another tab')
    if (this.#joined) {
      this.#election?.join()
      this.#watch.heard()
      this.#watch.start()
    }
  }

  #localView(): LocalView<In> {
    return {
      leader: (message) => this.#fromLeader(message),
      message: (data) => this.#emitter.emit('message', data),
      frame: (event, data) => {
        if (this.#emitter.has(event)) this.#emitter.emit(event, { data } as never)
      },
    }
  }

  // ── messages ─────────────────────────────────────────────────────────────────

  #receive(message: WireMessage): void {
    if (isLeaderMessage(message)) return this.#fromLeader(message)
    if (message.t === 'token') this.#token.heard(message.token)
    // Any other word of a tab comes from one that leads no term now (only a tab without a hub
    // posts these): a term of it that sends of this tab await is over.
    else if (this.#ending.size > 0) this.#overtaken(message.from, Infinity)
    this.#hub?.receive(message)
  }

  #fromLeader(message: LeaderMessage): void {
    if (this.#ending.size > 0) this.#overtaken(message.from, message.e)
    const adopted = message.from !== this.#leader || message.e !== this.#epoch
    if (adopted) {
      // Through a SharedWorker (no election) only the worker speaks on this tab's port: the first
      // word after joining is its group's, whatever its epoch (the clock may have been set back
      // since the group this tab knew).
      const fromWorker = !this.#election && this.#leader === null
      if (!fromWorker && !newer(message.e, message.from, this.#epoch, this.#leader)) return this.#fromEnded(message)
      if (this.#hub && message.from !== this.#id) this.#stepDown()
      this.#adopt(message)
    }
    this.#watch.heard()
    this.#handle(message)
    // After the new leader's state is in: the latest command, if it knows an older one (made while
    // there was none, or posted to the last one too late; run by this tab's own hub, it changes
    // that state at once; run before, the older state would win).
    if (adopted) this.#assertCommand()
  }

  #handle(message: LeaderMessage): void {
    switch (message.t) {
      case 'snap':
      case 'lead':
      case 'state':
        if (message.t === 'snap' && message.to !== this.#id) return
        // Nothing queued there: what that leader handled of this tab's went out (or was dropped
        // and counted there), heard or not while this tab was away.
        if (message.t === 'snap' && message.state.queued === 0) this.#owned.settled(message.handled ?? 0)
        this.#mirror(message.state)
        if (message.state.command && laterCommand(message.state.command, this.#lastCommand)) this.#lastCommand = message.state.command
        // The leader of now knows an older command than this tab (it took over without hearing the latest one).
        else this.#assertCommand()
        // A tab that joins (or missed the leader's `open`) sees the socket open: it emits its own.
        if (message.state.opened) this.#openedNow(message.state.protocol)
        return
      case 'open':
        return this.#openedNow(message.protocol)
      case 'frames':
        if (message.to && !message.to.includes(this.#id)) return
        return this.#frames(message.data)
      case 'close':
        this.#opened = false
        return this.#emitter.emit('close', message.info)
      case 'error':
        return this.#emitter.emit('error', message.error)
      case 'ok':
        if (message.to === this.#id && this.#owned.confirm(message.id, message.result)) this.#publish()
        return
      case 'flushed':
        return this.#owned.settled(message.handled?.[this.#id] ?? 0)
      case 'gone':
        // Counted there: the count comes with them, so they are never forgotten uncounted.
        this.#owned.gone(message.ids[this.#id] ?? [])
        return this.#mirror({ dropped: message.dropped })
      case 'wrote': {
        if (message.to !== this.#id || !this.#unsettled.has(message.id)) return
        const settled = this.#unsettled.get(message.id)
        this.#unsettled.delete(message.id)
        return this.#settle(settled, message.written)
      }
      case 'bye':
        // The term's last counts (a drop this tab did not hear of while away included).
        if (message.counted) this.#mirror(message.counted)
        this.#owned.handedBack(message.unsent?.[this.#id] ?? [], message.handled?.[this.#id] ?? 0)
        return this.#leaderGone('leading tab left')
    }
  }

  /** A new leader: take stock of what the last one held, then hand it what this tab still owns. */
  #adopt(message: LeaderMessage): void {
    const stolen = message.t === 'lead' && message.stolen
    // A robbed leader may still write what it was given: a frame counts as written, never twice.
    this.#settleFrames(stolen)
    if (this.#leader !== null) this.#leaderGone(stolen ? 'leading tab stopped' : 'leading tab gone')
    // Back in the group under the same term (after a pagehide or freeze): what that leader holds
    // of this tab's is not lost; its snapshot or its `bye` settles it.
    const sameTerm = message.e === this.#epoch && message.from === this.#followed
    const [ended, endedLeader] = [this.#epoch, this.#followed]
    // Whatever its first message (a `bye` may be), a new term's counts start from what the last one counted.
    this.#carry(message)
    this.#epoch = message.e
    this.#leader = this.#followed = message.from
    this.#known = Math.max(this.#known, message.e)
    const lost = sameTerm ? 0 : this.#owned.lose(stolen, message.e)
    // The term before ended unheard: what was posted to it waits for its last word.
    if (!sameTerm && endedLeader !== null && this.#owned.await(ended)) this.#awaitEnd(ended, endedLeader)
    this.#lost(lost)
    if (!this.#hub) {
      // A tab that missed the new leader's announcement (its page was stopped) asks for the state.
      this.#greet(message.t === 'lead' || message.t === 'snap' ? 'vis' : 'hello')
    }
    this.#sendOwned()
  }

  /** What this tab owns goes to the leader of now: into its own outbox while it leads, else posted. */
  #sendOwned(): void {
    const hub = this.#hub
    if (hub) {
      const { due, expired } = this.#owned.drain()
      if (expired > 0) this.#drop(expired, 'ttl')
      for (const [, data, ttl] of due) hub.write(new Encoded(data), { ttl })
    } else if (this.#leader !== null) {
      const { due, expired } = this.#owned.due(this.#epoch)
      if (expired > 0) this.#drop(expired, 'ttl')
      for (const send of due) this.#postSend(send)
    }
    this.#publish()
  }

  /**
   * Sends posted to the term of `epoch` wait for its last word (an `ok`, its `bye`: see
   * `#fromEnded`), or for its leader to be gone for good (its tab lock frees when its page
   * closes or crashes), before they go to another: a leader that a newer one outran may still
   * write them, and nothing is written twice.
   */
  #awaitEnd(epoch: number, leader: string): void {
    const locks = this.#transport.locks
    if (!locks) return this.#ended(epoch)
    if (this.#ending.has(epoch)) return
    const abort = new AbortController()
    this.#ending.set(epoch, { leader, cancel: () => abort.abort() })
    locks.request(`${this.#group} tab ${leader}`, { signal: abort.signal }, () => void (this.#ending.has(epoch) && this.#ended(epoch))).catch(() => {})
  }

  /** The term of `epoch` can write nothing more: what awaited it goes to the leader of now. */
  #ended(epoch: number): void {
    this.#ending.get(epoch)?.cancel()
    this.#ending.delete(epoch)
    this.#owned.release(epoch)
    this.#sendOwned()
  }

  /** Counts sends whose fate no tab can tell any more (they may or may not have gone out) in `uncertain`, and says so. */
  #lost(count: number): void {
    if (count === 0) return
    this.#uncertain += count
    this.#report(
      'dropped',
      `vue-realtime: ${count} message(s) this tab sent to ${this.url} may or may not have reached the server (counted in \`uncertain\`)` +
        (process.env.NODE_ENV !== 'production' ? ': the tab (or shared worker) that held the shared socket took them, then went away before it confirmed writing them.' : '.'),
    )
  }

  /**
   * A tab whose ended term has sends of this tab awaiting its last word speaks for a newer term
   * (`epoch`), or as a tab that leads none (`Infinity`): that term is over (its hub went first),
   * and its word was missed while this tab was out of the group. What awaited it may or may not
   * have gone out: counted, never resent.
   */
  #overtaken(from: string, epoch: number): void {
    let any = false
    for (const [ended, { leader }] of this.#ending) {
      if (leader !== from || epoch <= ended) continue
      this.#endedUnheard(ended)
      any = true
    }
    if (any) this.#sendOwned()
  }

  /** The term of `ended` is over and its last word was missed: what awaited it counts as uncertain. */
  #endedUnheard(ended: number): void {
    this.#ending.get(ended)?.cancel()
    this.#ending.delete(ended)
    this.#lost(this.#owned.forget(ended))
  }

  /** A message of a term this tab no longer follows: only its last word about this tab's sends counts. */
  #fromEnded(message: LeaderMessage): void {
    if (message.t === 'ok' && message.to === this.#id) this.#owned.heard(message.e, { id: message.id, result: message.result })
    else if (message.t === 'bye') this.#owned.heard(message.e, { handled: message.handled?.[this.#id] ?? 0, unsent: message.unsent?.[this.#id] ?? [] })
    else return
    // Nothing awaits that term any more: stop waiting for its leader to be gone.
    if (!this.#owned.awaits(message.e)) this.#ended(message.e)
    else this.#sendOwned()
  }

  /** The leader is gone (or deposed); until the next one speaks, the socket is being replaced. */
  #leaderGone(reason: string): void {
    // Before the close: a protocol layer decides what to send again from these outcomes.
    this.#settleFrames(false)
    this.#leader = null
    if (!this.#shared) return
    // Closed by the user: it stays closed through the hand-over (the next term starts closed).
    if (this.#shared.status === 'closed') return this.#mirror({ queued: 0 })
    const info = closeInfo(1001, reason, false)
    const wasOpen = this.#opened
    this.#closed(info)
    this.#mirror({ ...WAITING, lastClose: wasOpen ? info : this.#shared.lastClose })
  }

  #settleFrames(written: boolean): void {
    const waiting = [...this.#unsettled.values()]
    this.#unsettled.clear()
    for (const settled of waiting) this.#settle(settled, written)
  }

  #settle(settled: FrameSettled | undefined, written: boolean): void {
    try {
      settled?.(written)
    } catch (error) {
      this.#report('callback', callbackThrew('sendFrame', error), error)
    }
  }

  #openedNow(protocol: string): void {
    if (this.#opened || this.#state.status !== 'open') return
    this.#opened = true
    this.#emitter.emit('open', { protocol })
  }

  #closed(info: CloseInfo): void {
    if (!this.#opened) return
    this.#opened = false
    this.#emitter.emit('close', info)
  }

  #frames(frames: unknown[]): void {
    for (const raw of frames) {
      if (this.#emitter.has('frameIn')) this.#emitter.emit('frameIn', { data: raw })
      let message: In
      try {
        message = this.#serializer.decode(raw)
      } catch (error) {
        this.#report('decode', `Could not decode a frame from ${this.url}: ${(error as Error).message}`, error)
        continue
      }
      this.#emitter.emit('message', message)
    }
  }

  // ── sends ────────────────────────────────────────────────────────────────────

  /**
   * This tab's own sends that its hub queued and never wrote: they wait for the next leader, like
   * a follower's (`takeQueued` already dropped and counted the expired ones).
   */
  #keep(unsent: OutboxEntry[]): void {
    const now = this.#steady()
    for (const { data, expiresAt } of unsent) {
      try {
        const { dropped, uncertain } = this.#owned.add(data, expiresAt === Infinity ? undefined : expiresAt - now)
        if (dropped > 0) this.#drop(dropped, 'overflow')
        this.#lost(uncertain)
      } catch {
        // Full under `overflow: 'error'`: nothing to throw to here, so it counts as dropped.
        this.#drop(1, 'overflow')
      }
    }
  }

  #postSend([id, data, ttl]: Due): void {
    this.#post({ t: 'send', e: this.#epoch, to: this.#leader!, from: this.#id, id, data, ...(ttl === undefined ? {} : { ttl }) })
  }

  #command(op: Command, code?: number, reason?: string): void {
    // Later than every command this tab knows of, whatever the wall clock says.
    const at = Math.max(this.#env.now(), (this.#lastCommand?.at ?? 0) + 1)
    this.#lastCommand = { op, ...(op === 'close' ? { code, reason } : {}), at, from: this.#id }
    this.#assertCommand(true)
  }

  /**
   * Hands the latest command this tab knows of to the leader of now, if that one knows an older
   * one. Made earlier (`now` false), a `reconnect` goes as an `open`: what lasts of it is that the
   * socket be open, and the leader of now has a socket of its own to keep.
   */
  #assertCommand(now = false): void {
    const latest = this.#lastCommand
    if (!latest) return
    const last = now ? latest : this.#lasting(latest)
    if (this.#hub) return this.#hub.command(last)
    if (this.#leader === null || !laterCommand(last, this.#shared?.command)) return
    const asserted = this.#asserted
    if (asserted?.at === last.at && asserted.from === last.from && asserted.epoch === this.#epoch) return
    this.#asserted = { at: last.at, from: last.from, epoch: this.#epoch }
    this.#post({ t: 'cmd', e: this.#epoch, to: this.#leader, from: this.#id, command: last })
  }

  /** What lasts of a command made earlier: a `reconnect` is an `open` (the socket of now is not the one it meant). */
  #lasting(command: CommandRecord): CommandRecord {
    return command.op === 'reconnect' ? { ...command, op: 'open' } : command
  }

  #post(message: TabMessage | LeaderMessage): void {
    try {
      this.#bus?.postMessage(message)
    } catch (error) {
      this.#report('socket', `vue-realtime: could not post to the other tabs: ${(error as Error).message}`, error)
    }
  }

  // ── state ────────────────────────────────────────────────────────────────────

  /** A state of another term than the one shown: keep what the last term counted. */
  #carry({ e, from }: LeaderMessage): void {
    const term = `${e} ${from}`
    if (term === this.#sharedTerm) return
    const last = this.#sharedTerm === null ? null : this.#shared
    this.#sharedTerm = term
    if (!last) return
    this.#carried.received += last.received
    this.#carried.sent += last.sent
    this.#carried.dropped += last.dropped
    // The close that ended the last open link, until a link of the new term ends.
    this.#carried.lastClose = last.lastClose ?? this.#carried.lastClose
  }

  /** Tells the group this tab's visibility and whether it holds its lock yet: `hello` asks the leader for its state, `vis` does not. */
  #greet(t: 'hello' | 'vis', visible = this.#env.isVisible()): void {
    this.#post({ t, from: this.#id, visible, alive: this.#alive })
  }

  #mirror(patch: Partial<SharedState>): void {
    this.#shared = { ...(this.#shared ?? UNSHARED), ...patch } as SharedState
    this.#publish()
  }

  #publish(): void {
    const { protocol: _protocol, opened: _opened, command: _command, ...shared } = this.#shared ?? UNSHARED
    this.#state = {
      ...shared,
      error: shared.error,
      queued: shared.queued + this.#owned.size,
      received: shared.received + this.#carried.received,
      sent: shared.sent + this.#carried.sent,
      dropped: shared.dropped + this.#carried.dropped + this.#dropped,
      lastClose: shared.lastClose ?? this.#carried.lastClose,
      role: this.#hub ? 'leader' : 'follower',
      uncertain: this.#uncertain,
    }
    this.#emitter.emit('state', this.#state)
  }

  #drop(count: number, reason: 'overflow' | 'ttl' | 'volatile'): SendResult {
    this.#dropped += count
    if (reason !== 'volatile') this.#report('dropped', `${count} message(s) for ${this.url} were dropped (${reason}) while waiting for the tab that holds the shared socket.`)
    else this.#publish()
    return 'dropped'
  }

  /** An error of this tab (it shows in `state.error` until the leader's next state). */
  #report(kind: RealtimeErrorInfo['kind'], text: string, cause?: unknown): void {
    const message = redactSecrets(text)
    this.#mirror({ error: { kind, message } })
    this.#emitter.emit('error', { kind, message, cause: redactError(cause) })
  }
}
