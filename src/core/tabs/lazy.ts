/**
 * The connection a tab gets for `shareAcrossTabs: true | { ... }`. The tab-sharing code is a
 * dynamic `import()` (a chunk that apps which do not share never load), but `acquire()` answers
 * at once: this connection stands in while the chunk loads, then forwards every call to the
 * connection the chunk made and hands it its listeners, so a consumer keeps one object, its
 * listeners and its refs.
 *
 * While loading it opens no socket (which tab holds the one socket is decided once the tab
 * joins), says `role: 'follower'` (this tab holds none), and keeps every call in order: `open`,
 * `close`, `reconnect`, `send` and `sendFrame` are made again on the loaded connection, as they
 * came. If the chunk does not load, the tab keeps a socket of its own (`solo`) and says why.
 */
import { closeInfo, Connection, IDLE_STATE, type FrameSettled } from '../connection'
import { Emitter } from '../emitter'
import { callbackThrew, errorInfo, errorMessage } from '../errors'
import { jsonSerializer } from '../serializer'
import type { ConnectionEvents, ConnectionOptions, ConnectionState, ConnectionStatus, RealtimeErrorInfo, SendOptions, SendResult, Serializer, TabSharingOptions, WebSocketData } from '../types'

/** What the tab-sharing chunk offers. */
export type TabsModule = typeof import('./connect')

type Events<In> = ConnectionEvents<In>
type Method = 'open' | 'close' | 'closeForApp' | 'reconnect' | 'send' | 'sendFrame'
const EVENTS: Array<keyof Events<unknown>> = ['state', 'open', 'message', 'close', 'error', 'frameOut', 'frameIn']
const CONNECTING: Partial<ConnectionState> = { status: 'connecting', readyState: 0 }
/** What a close made while loading shows meanwhile. */
const closedState = (code: number, reason: string): Partial<ConnectionState> => ({ status: 'closed', readyState: 3, lastClose: closeInfo(code, reason, true) })

const loadTabs = (): Promise<TabsModule> => import('./connect')

export class LazyTabConnection<In = unknown, Out = unknown> extends Connection<In, Out> {
  /** The loaded connection (null while the chunk loads). */
  #real: Connection<In, Out> | null = null
  /** The calls made while loading, in order. */
  readonly #calls: Array<[method: Method, args: unknown[]]> = []
  /** The listeners given while loading (the loaded connection's events are relayed to them). */
  readonly #emitter = new Emitter<Events<In>>((error, event) => {
    // Never into the error listener that just threw.
    if (event === 'error') console.error(error)
    else this.#report('callback', callbackThrew(event, error), error, false)
  })
  #state: ConnectionState = { ...IDLE_STATE, role: 'follower' }

  /** @param load imports the tab-sharing chunk. */
  constructor(url: string | URL, options: ConnectionOptions<In, Out>, sharing: TabSharingOptions, load: () => Promise<TabsModule> = loadTabs) {
    super(url, options)
    load()
      .then((tabs) => this.#real ?? this.#adopt(tabs.connectTabs(url, options, sharing)))
      .catch((error: unknown) => {
        if (this.#real) return
        this.#report('socket', `vue-realtime: the tab-sharing code did not load (${errorMessage(error)}); this tab keeps a socket of its own` +
          (process.env.NODE_ENV !== 'production' ? ': serve the chunk with the app (a deploy may have removed it), or pass `shareAcrossTabs: tabSharing()` to bundle it.' : '.'), error)
        this.#adopt(new Connection(url, options))
      })
  }

  override get state(): Readonly<ConnectionState> {
    return this.#real?.state ?? this.#state
  }

  override get status(): ConnectionStatus {
    return this.state.status
  }

  override on<K extends keyof Events<In>>(event: K, listener: (payload: Events<In>[K]) => void): () => void {
    return (this.#real ?? this.#emitter).on(event, listener)
  }

  override open(): void {
    this.#call('open', [], CONNECTING)
  }

  override reconnect(): void {
    this.#call('reconnect', [], CONNECTING)
  }

  override close(code = 1000, reason = ''): void {
    this.#call('close', [code, reason], closedState(code, reason))
  }

  override closeForApp(code = 1000, reason = ''): void {
    this.#call('closeForApp', [code, reason], closedState(code, reason))
  }

  /** While loading: kept, `'queued'` (a volatile message: `'dropped'`, there is no socket to write it on now). */
  override send(data: Out | WebSocketData, options: SendOptions = {}): SendResult {
    const { queued, dropped } = this.#encode(data)
    // A volatile one is made again too: the loaded connection counts its drop.
    return (this.#call('send', [data, options], options.volatile ? { dropped: dropped + 1 } : { queued: queued + 1 }) ??
      (options.volatile ? 'dropped' : 'queued')) as SendResult
  }

  /** While loading: `'queued'`; the loaded connection writes it or says it did not (it cannot be open yet). */
  override sendFrame(data: Out | WebSocketData, settled?: FrameSettled): SendResult {
    this.#encode(data)
    return (this.#call('sendFrame', [data, settled]) ?? 'queued') as SendResult
  }

  /**
   * The manager's release: a shared connection hands its socket over. Before the chunk loaded,
   * a plain connection that never opens takes what was kept and is disposed, so what was sent
   * is counted as dropped and the frames are told they were not written.
   */
  override dispose(code = 1000, reason = ''): void {
    if (!this.#real) this.#adopt(new Connection(this.url, this.options), true)
    this.#real!.dispose(code, reason)
    this.#emitter.clear()
  }

  /** Takes the loaded connection: relays its events, then makes the calls kept (no `open` for one that is only disposed). */
  #adopt(real: Connection<In, Out>, disposing = false): void {
    this.#real = real
    for (const event of EVENTS) if (this.#emitter.has(event)) real.on(event, (payload) => this.#emitter.emit(event, payload))
    for (const [method, args] of this.#calls.splice(0)) {
      if (disposing && (method === 'open' || method === 'reconnect')) continue
      try {
        ;(real[method] as (...args: unknown[]) => unknown)(...args)
      } catch (error) {
        // What `send` throws now (a full queue with `overflow: 'error'`) was answered 'queued' then.
        this.#report('dropped', `vue-realtime: a message for ${this.url} sent while the tab-sharing code loaded was dropped: ${errorMessage(error)}`, error)
      }
    }
    this.#emitter.emit('state', real.state)
  }

  /** Made on the loaded connection (its result), or kept for it with what the state shows meanwhile. */
  #call(method: Method, args: unknown[], patch?: Partial<ConnectionState>): unknown {
    const real = this.#real
    if (real) return (real[method] as (...args: unknown[]) => unknown).apply(real, args)
    this.#calls.push([method, args])
    if (patch) this.#set(patch)
  }

  /** Throws on what cannot be encoded, as `Connection` does, so that nothing unsendable is kept. */
  #encode(data: Out | WebSocketData): ConnectionState {
    if (!this.#real) (this.options.serializer ?? (jsonSerializer as Serializer<In, Out>)).encode(data as Out)
    return this.#state
  }

  #set(patch: Partial<ConnectionState>): void {
    this.#emitter.emit('state', (this.#state = { ...this.#state, ...patch }))
  }

  /** An error, in the state too while loading (not for a listener that threw: a state listener would throw again). */
  #report(kind: RealtimeErrorInfo['kind'], message: string, cause?: unknown, inState = !this.#real): void {
    const error = errorInfo(kind, message, cause)
    if (inState) this.#set({ error })
    this.#emitter.emit('error', error)
  }
}
