/**
 * Model-based test of one socket shared across tabs (`shareAcrossTabs`, Web Locks and
 * BroadcastChannel of one in-memory browser profile) under fake timers, by either transport
 * (drawn per run): `'locks'` (the tabs elect a leader) or `'worker'` (a SharedWorker made of
 * in-memory ports and `serveTabs()`, a page of its own, holds the socket). fast-check generates
 * sequences of tab commands (open, release, crash, pause and resume as in a debugger, freeze and
 * resume, hide and show, send), server commands (accept, refuse, send a frame on every open
 * socket, drop), clock steps forward, the system clock set back and, with `'worker'`, the browser
 * ending the SharedWorker while its tabs live (`killWorker`), with the frames and the sends numbered so that each can be
 * followed. After every step it checks what must always hold; after a heal (every page running
 * and visible, the server accepting) it checks what must hold in the end:
 *
 * - each tab's consumer gets the server's frames in order, none twice;
 * - a send is written at most once, on any socket of any tab; a frame (`sendFrame`) too, it is
 *   told its outcome at most once, and one told it was not written never is;
 * - once the tabs have run: at most one socket connecting or open among running tabs;
 * - healed: every tab that was on a killed worker noticed and joined a new one (within a
 *   bound); one open socket, one leader (the worker, with `'worker'`), every tab open and
 *   following it; a frame the server
 *   sends then reaches every tab once; every send a tab still holds is written once, or is
 *   counted in its `dropped` or `uncertain`; every frame was told its outcome;
 * - healed: the shared socket does what the last `open()`, `close()` or `reconnect()` a tab
 *   made says (an acquire is an `open()`; a command of a tab that crashed or left may die with it).
 * - every tab's manager disposed and the worker stopped: no socket open, no timer left.
 *
 * TABS_RUNS sets the number of runs (default 300, a few seconds). A failure prints the seed and
 * the shrunk sequence; replay it with TABS_SEED=<seed> TABS_PATH=<path> TABS_REPLAY=<replayPath>
 * (the last printed after the sequence). TABS_VIA=locks or TABS_VIA=worker runs one transport only. TABS_DEBUG=1 prints
 * each run's sequence and what it amounted to (tabs, sockets, frames, sends, frames received).
 */
import fc from 'fast-check'
import { afterEach, describe, it, vi } from 'vitest'
import {
  ConnectionManager,
  createManualEnvironment,
  MemoryProfile,
  tabSharing,
  type Connection,
  type ManualEnvironment,
} from '../../src/core'
import type { ConnectionOptions, SendOptions, SendResult, WebSocketConstructor } from '../../src/core/types'
import { FakeWebSocket } from '../core/fakeSocket'
import { memoryWorker, type MemoryWorker } from '../tabs/memoryPort'

const runs = Number(process.env.TABS_RUNS ?? 300)
const seed = process.env.TABS_SEED === undefined ? undefined : Number(process.env.TABS_SEED)
const path = process.env.TABS_PATH

const URL = 'ws://127.0.0.1:1/socket'
const MAX_TABS = 4
/** How the tabs share: both by default (drawn per run), or TABS_VIA=locks|worker. */
const VIA: ReadonlyArray<'locks' | 'worker'> = process.env.TABS_VIA === 'locks' || process.env.TABS_VIA === 'worker' ? [process.env.TABS_VIA] : ['locks', 'worker']

/** A socket made by one tab (the server sees which tab's page holds it). */
class TabSocket extends FakeWebSocket {
  constructor(
    readonly owner: Tab,
    readonly world: TabsWorld,
    url: string,
    protocols?: string | string[],
  ) {
    super(url, protocols)
    world.sockets.push(this)
    if ((world as unknown as { trace?: boolean }).trace) console.log(new Error('socket').stack)
  }

  /** The server answers a heartbeat ping at once (a task later), unless it was muted. */
  override send(data: Parameters<FakeWebSocket['send']>[0]): void {
    super.send(data)
    if (data === 'ping' && !this.world.muted) setTimeout(() => this.world.server(this, (socket) => socket.receive('pong')), 0)
  }
}

interface Tab {
  index: number
  env: ManualEnvironment
  manager: ConnectionManager
  connection: Connection
  /** The server's frame numbers this tab's consumer got, in order. */
  received: number[]
  /** What this tab sent, with what `send` answered. */
  sends: Array<{ payload: string; result: SendResult; volatile?: boolean }>
  /** The frames it wrote with `sendFrame` (a protocol layer's primitive), with every outcome it was told. */
  frames: Array<{ payload: string; settled: boolean[] }>
  /** Released by its consumer, or its renderer died. */
  gone: 'released' | 'crashed' | null
  frozen: boolean
  /** Its app unmounted (`closeAll()`): closed for this tab only, until its consumer opens again. */
  unmounted: boolean
}

class TabsWorld {
  readonly profile = new MemoryProfile()
  readonly tabs: Tab[] = []
  readonly sockets: TabSocket[] = []
  nextFrame = 1
  nextSend = 1
  /** The server stops answering heartbeat pings (a half-open link, as the client sees it). */
  muted = false
  /** The last open() or close() a tab made in the group (null: none, or it may have died with its tab). */
  lastCommand: { op: 'open' | 'close'; tab: Tab } | null = null
  /**
   * The system clock was set back: commands that no tab knew of each other (one made while no tab
   * led) are ordered by the wall clock, so which is the last one is not checked in this run.
   */
  clockSetBack = false

  /** A tab's code calls open(), close() or reconnect() (which opens too); the clock moves 1 ms (one user, one action at a time). */
  command(tab: Tab, op: 'open' | 'close' | 'reconnect'): void {
    // Released in a task the page ran before this one: its connection is no longer its own.
    if (tab.gone) return
    vi.setSystemTime(Date.now() + 1)
    // A close() after its app unmounted is its own: that tab is out of the group until it opens.
    if (!(tab.unmounted && op === 'close')) this.lastCommand = { op: op === 'close' ? 'close' : 'open', tab }
    if (op !== 'close') tab.unmounted = false
    tab.connection[op]()
  }

  /** A tab goes: a command it made may not have reached a leader. */
  gone(tab: Tab, how: 'released' | 'crashed'): void {
    tab.gone = how
    if (this.lastCommand?.tab === tab) this.lastCommand = null
  }

  /** With `via: 'worker'`: the SharedWorker (`serveTabs()`), a page of its own that holds the socket. */
  readonly worker: MemoryWorker | null = null
  /** The pages of the workers started so far (the browser starts a new one after a kill): the last one runs, unless killed. */
  readonly workerPages: Tab[] = []

  constructor(
    readonly defaults: ConnectionOptions,
    readonly random: () => number,
    readonly via: 'locks' | 'worker',
  ) {
    if (via === 'worker') {
      this.worker = memoryWorker({ idleTimeout: 0, ...defaults }, () => {
        const tab = { index: -1 - this.workerPages.length, received: [], sends: [], frames: [], gone: null, frozen: false, unmounted: false } as unknown as Tab
        tab.env = createManualEnvironment({ random, WebSocket: this.socketClass(tab) }, this.profile)
        this.workerPages.push(tab)
        return tab.env
      })
    }
  }

  /** The page of the worker running now (null: none, or it was killed and no tab started another yet). */
  workerPage(): Tab | null {
    const page = this.workerPages.at(-1)
    return page && !page.gone ? page : null
  }

  /** The browser ends the SharedWorker while its tabs live: the server sees its socket close. */
  killWorker(): void {
    const page = this.workerPage()
    if (!page) return
    page.gone = 'crashed'
    this.worker!.kill()
  }

  /** The WebSocket constructor of a page (a tab's, or the worker's): its sockets know their owner. */
  socketClass(owner: Tab): WebSocketConstructor {
    const world = this
    return class extends TabSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(owner, world, url, protocols)
      }
    }
  }

  openTab(): Tab {
    const tab = { index: this.tabs.length, received: [], sends: [], frames: [], gone: null, frozen: false, unmounted: false } as unknown as Tab
    const worker = this.worker
    const create = () => worker!.create(tab.env.tab)
    tab.env = createManualEnvironment({ random: this.random, WebSocket: this.socketClass(tab), ...(worker ? { SharedWorker: class {} } : {}) }, this.profile)
    const shareAcrossTabs = worker ? tabSharing({ via: 'worker', worker: create }) : tabSharing()
    tab.manager = new ConnectionManager({ idleTimeout: 0, shareAcrossTabs, environment: tab.env, ...this.defaults })
    vi.setSystemTime(Date.now() + 1)
    this.lastCommand = { op: 'open', tab }
    tab.connection = tab.manager.acquire(URL)
    tab.connection.on('message', (m) => tab.received.push(m as number))
    this.tabs.push(tab)
    return tab
  }

  live(): Tab[] {
    return this.tabs.filter((t) => !t.gone)
  }

  /** Sockets the server still holds (their page has not crashed; the browser closed those). */
  serverSockets(readyState: number): TabSocket[] {
    return this.sockets.filter((s) => s.readyState === readyState && !s.closedWith && s.owner.gone !== 'crashed')
  }

  /** The server acts on a socket: its event is a task of the page that holds it (held while that page is paused). */
  server(socket: TabSocket, act: (socket: TabSocket) => void): void {
    socket.owner.env.tab.run(() => {
      if (!socket.closedWith && socket.readyState < 2) act(socket)
    })
  }

  writes(payload: string): number {
    let n = 0
    for (const socket of this.sockets) for (const data of socket.sent) if (data === payload) n++
    return n
  }
}

type Model = { tabs: number }
type Command = fc.AsyncCommand<Model, TabsWorld>

/** Advances the fake clock, then lets chains of tasks (channel deliveries, lock grants) run. */
async function settle(ms: number): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms)
  for (let i = 0; i < 20; i++) await vi.advanceTimersByTimeAsync(1)
}

function fail(message: string): never {
  throw new Error(`invariant: ${message}`)
}

/** A command on tab `index` (a no-op once that tab is gone). */
function onTab(name: string, index: number, act: (tab: Tab, world: TabsWorld) => void): Command {
  return {
    check: (model) => index < model.tabs,
    async run(_model, world) {
      const tab = world.tabs[index]
      if (!tab.gone) act(tab, world)
      checkAlways(world)
    },
    toString: () => `${name}(${index})`,
  }
}

function command(name: string, act: (world: TabsWorld) => void | Promise<void>, settled = false): Command {
  return {
    check: () => true,
    async run(_model, world) {
      await act(world)
      checkAlways(world)
      if (settled) checkSettled(world)
    },
    toString: () => name,
  }
}

const index = fc.nat(MAX_TABS - 1)
const openTab = fc.constant<Command>({
    check: (model) => model.tabs < MAX_TABS,
    async run(model, world) {
      world.openTab()
      model.tabs++
      checkAlways(world)
    },
    toString: () => 'openTab',
})
/** Plain sends, volatile ones (written now or dropped, counted) and ones with a ttl (dropped, counted, once it passes). */
const sendOptions = fc.constantFrom<SendOptions>({}, {}, { volatile: true }, { ttl: 2_000 })
const send = fc.tuple(index, fc.nat(2), sendOptions).map(([i, n, options]) =>
  onTab(`send×${n + 1}${options.volatile ? ' volatile' : options.ttl ? ` ttl ${options.ttl}` : ''}`, i, (tab, world) => {
    const payloads = Array.from({ length: n + 1 }, () => `m${world.nextSend++}`)
    // The page's code: held while the page is paused.
    tab.env.tab.run(() => {
      for (const payload of payloads) tab.sends.push({ payload, result: tab.connection.send(payload, options), volatile: options.volatile })
    })
  }),
)
/** `sendFrame`: written once on the leader's socket in hand and told so, or told it was not (then never written). */
const sendFrame = index.map((i) =>
  onTab('sendFrame', i, (tab, world) => {
    const payload = `f${world.nextSend++}`
    tab.env.tab.run(() => {
      const frame = { payload, settled: [] as boolean[] }
      tab.frames.push(frame)
      tab.connection.sendFrame(payload, (written) => frame.settled.push(written))
    })
  }),
)
const accept = fc.constant(command('accept', (world) => world.serverSockets(0).forEach((s) => world.server(s, (socket) => socket.accept()))))
const frames = fc.nat(2).map((n) =>
  command(`frames×${n + 1}`, (world) => {
    for (let k = 0; k <= n; k++) {
      const frame = world.nextFrame++
      for (const s of world.serverSockets(1)) world.server(s, (socket) => socket.receive(String(frame)))
    }
  }),
)
const advance = fc.constantFrom(1, 30, 300, 1_500, 5_000).map((ms) => command(`advance(${ms})`, () => settle(ms), true))
/** The system clock is set back (by hand, or an NTP correction); no timer fires. */
const clockBack = fc.constantFrom(1_000, 60_000, 3_600_000).map((ms) =>
  command(`clockBack(${ms})`, (world) => {
    vi.setSystemTime(Date.now() - ms)
    world.clockSetBack = true
  }),
)
/** Each command once; the common ones (a tab opens, sends, frames, the clock) more often. */
const commands = [
  openTab,
  openTab,
  send,
  send,
  send,
  sendFrame,
  accept,
  accept,
  frames,
  frames,
  frames,
  advance,
  advance,
  clockBack,
  advance,
  // What the page's code does runs as its task: held while the page is paused.
  index.map((i) =>
    onTab('release', i, (tab, world) =>
      tab.env.tab.run(() => {
        world.gone(tab, 'released')
        tab.manager.release(tab.connection)
      }),
    ),
  ),
  index.map((i) => onTab('crash', i, (tab, world) => {
    world.gone(tab, 'crashed')
    tab.env.tab.crash()
  })),
  index.map((i) => onTab('pause', i, (tab) => tab.env.tab.pause())),
  index.map((i) => onTab('resume', i, (tab) => tab.env.tab.resume())),
  index.map((i) => onTab('freeze', i, (tab) => {
    tab.frozen = true
    tab.env.emit({ type: 'freeze' })
  })),
  index.map((i) => onTab('thaw', i, (tab) => {
    tab.frozen = false
    tab.env.emit({ type: 'resume' })
  })),
  // The user closes the shared socket (for every tab), or opens it again, from one tab.
  index.map((i) => onTab('close', i, (tab, world) => tab.env.tab.run(() => world.command(tab, 'close')))),
  // The tab's app unmounts while its consumer still holds the connection: it leaves the group, the others keep the socket.
  index.map((i) =>
    onTab('unmount', i, (tab, world) =>
      tab.env.tab.run(() => {
        if (tab.gone) return
        tab.unmounted = true
        // A command it made that no leader heard yet leaves with it.
        if (world.lastCommand?.tab === tab) world.lastCommand = null
        tab.manager.closeAll()
      }),
    ),
  ),
  index.map((i) => onTab('open', i, (tab, world) => tab.env.tab.run(() => world.command(tab, 'open')))),
  index.map((i) => onTab('reconnect', i, (tab, world) => tab.env.tab.run(() => world.command(tab, 'reconnect')))),
  // (A frozen page runs no code; these two may still come in the task of its freeze or pagehide.)
  index.map((i) => onTab('pagehide', i, (tab) => {
    tab.frozen = true
    tab.env.emit({ type: 'pagehide', persisted: true })
  })),
  index.map((i) => onTab('hide', i, (tab) => tab.env.emit({ type: 'hidden' }))),
  index.map((i) => onTab('show', i, (tab) => tab.env.emit({ type: 'visible' }))),
  fc.constant(command('mute', (world) => void (world.muted = true))),
  fc.constant(command('unmute', (world) => void (world.muted = false))),
  fc.constant(command('refuse', (world) => world.serverSockets(0).forEach((s) => world.server(s, (socket) => socket.serverClose(1006))))),
  fc.constant(command('drop', (world) => world.serverSockets(1).forEach((s) => world.server(s, (socket) => socket.serverClose(1006))))),
]
/** With `via: 'worker'`: the browser ends the SharedWorker (a crash, memory pressure); the tabs must notice and start another. */
const workerCommands = [...commands, fc.constant(command('killWorker', (world) => world.killWorker()))]

/** What holds after every step. */
function checkAlways(world: TabsWorld): void {
  for (const tab of world.tabs) {
    for (let i = 1; i < tab.received.length; i++) {
      if (!(tab.received[i] > tab.received[i - 1])) fail(`tab ${tab.index} got frame ${tab.received[i]} after ${tab.received[i - 1]}: ${tab.received.join(',')}`)
    }
    for (const { payload } of tab.sends) {
      const n = world.writes(payload)
      if (n > 1) fail(`tab ${tab.index}'s ${payload} was written ${n} times`)
    }
    for (const { payload, settled } of tab.frames) {
      const n = world.writes(payload)
      if (n > 1) fail(`tab ${tab.index}'s frame ${payload} was written ${n} times`)
      if (settled.length > 1) fail(`tab ${tab.index}'s frame ${payload} was told ${settled.join(', then ')}`)
      if (settled[0] === false && n > 0) fail(`tab ${tab.index}'s frame ${payload} was told unwritten, yet written`)
    }
  }
}

/** What holds once every running tab has run its tasks. */
function checkSettled(world: TabsWorld): void {
  const running = (s: TabSocket) => !s.owner.gone && !s.owner.env.tab.paused
  const held = [...world.serverSockets(0), ...world.serverSockets(1)].filter(running)
  if (held.length > 1) fail(`${held.length} sockets connecting or open in running tabs (of tabs ${held.map((s) => s.owner.index).join(', ')})`)
}

/** The shared socket does what the last command of a tab still here says: closed for every tab, or not closed in any. */
function checkLastCommand(world: TabsWorld): void {
  const last = world.lastCommand
  const live = world.live()
  if (!last || live.length === 0 || world.clockSetBack) return
  const states = live.map((t) => `tab ${t.index} ${t.connection.state.role} ${t.connection.state.status}`).join(', ')
  for (const tab of live) {
    if (tab.unmounted) {
      if (tab.connection.state.status !== 'closed') fail(`tab ${tab.index}'s app unmounted, yet it shows ${tab.connection.state.status}; ${states}`)
      continue
    }
    // (`closing`: the server has not answered the close handshake yet.)
    const closed = ['closed', 'closing'].includes(tab.connection.state.status)
    if (last.op === 'close' ? !closed : closed) fail(`the last command was tab ${last.tab.index}'s ${last.op}(); ${states}`)
  }
  const sockets = [...world.serverSockets(0), ...world.serverSockets(1)]
  if (last.op === 'close' && sockets.length > 0) fail(`the last command was tab ${last.tab.index}'s close(), yet ${sockets.length} socket(s) connecting or open; ${states}`)
}

/** Every page running and visible, the server accepting: then the tabs must agree on one open socket. */
async function heal(world: TabsWorld): Promise<void> {
  world.muted = false
  // Every page runs again, those whose consumer left too (a paused page can hold a lock).
  for (const tab of world.tabs) if (tab.gone !== 'crashed') tab.env.tab.resume()
  // What the paused pages held runs first (a freeze, a close among it), then they resume and show.
  for (let step = 0; step < 100 && world.tabs.some((t) => t.gone !== 'crashed' && t.env.tab.waiting > 0); step++) await settle(1)
  for (const tab of world.live()) {
    if (tab.frozen) tab.env.emit({ type: 'resume' })
    if (tab.frozen) tab.env.emit({ type: 'pageshow', persisted: true })
    tab.frozen = false
    tab.env.emit({ type: 'visible' })
  }
  await settle(1)
  // What a tab asked of the shared socket reaches the leader of now, once there is one.
  await settle(1_000)
  // A killed worker: every tab still joined to it notices (it stops answering) and joins a new one.
  if (world.worker && world.worker.stale() > 0) {
    for (let step = 0; step < 120 && world.worker.stale() > 0; step++) {
      await settle(1_000)
      checkAlways(world)
    }
    if (world.worker.stale() > 0) fail(`after healing: ${world.worker.stale()} port(s) of tabs still on a killed worker`)
  }
  // What a tab asked of the shared socket reaches the worker of now, also when the tab joined it
  // at the very end of the settle above (it noticed the killed one then: nothing was stale here).
  if (world.worker) await settle(1_000)
  checkLastCommand(world)
  const healthy = () => {
    const open = world.serverSockets(1)
    return (
      world.live().every((t) => t.env.tab.waiting === 0) &&
      open.length === (world.live().length > 0 ? 1 : 0) && world.serverSockets(0).length === 0 && world.live().every((t) => t.connection.state.status === 'open' && t.connection.state.queued === 0)
    )
  }
  for (let step = 0; step < 60 && !healthy(); step++) {
    // A socket the user closed opens again when a tab asks.
    const closed = world.live().find((t) => t.connection.state.status === 'closed')
    closed?.connection.open()
    for (const s of world.serverSockets(0)) world.server(s, (socket) => socket.accept())
    await settle(1_000)
    checkAlways(world)
    checkSettled(world)
  }
  const live = world.live()
  const states = live.map((t) => `tab ${t.index} ${JSON.stringify(t.connection.state)}`).join('; ')
  if (!healthy()) fail(`after healing: ${world.serverSockets(1).length} open, ${world.serverSockets(0).length} connecting sockets; ${states}`)
  const leaders = live.filter((t) => t.connection.state.role === 'leader')
  // The worker leads with `via: 'worker'`: every tab follows.
  const holder = world.worker ? [world.workerPage()].filter((page): page is Tab => page !== null) : leaders
  if (live.length > 0 && holder.length !== 1) fail(`after healing: ${leaders.length} leaders; ${states}`)
  if (world.worker && leaders.length > 0) fail(`after healing: tab ${leaders[0].index} leads beside the worker; ${states}`)
  if (live.length > 0 && world.serverSockets(1)[0].owner !== holder[0]) fail(`after healing: the open socket is tab ${world.serverSockets(1)[0].owner.index}'s, the leader is tab ${holder[0].index}`)

  // A frame now reaches every tab, once.
  const frame = world.nextFrame++
  for (const s of world.serverSockets(1)) world.server(s, (socket) => socket.receive(String(frame)))
  await settle(1)
  checkAlways(world)
  for (const tab of live) if (tab.received.at(-1) !== frame) fail(`tab ${tab.index} did not get frame ${frame} after healing: ${tab.received.join(',')}`)

  // Every send of a tab still here was written once, or is counted.
  for (const tab of live) {
    const { dropped, uncertain } = tab.connection.state
    // A volatile send is at most once: 'sent' hands it to the socket (or to the leader's tab), which may still lose it.
    const unwritten = tab.sends.filter(({ payload, result, volatile }) => world.writes(payload) === 0 && !(volatile && result === 'sent'))
    if (unwritten.length > dropped + uncertain) {
      fail(`tab ${tab.index}: ${unwritten.length} sends never written (${unwritten.map((s) => `${s.payload} ${s.result}`).join(', ')}) but dropped ${dropped} + uncertain ${uncertain}; ${states}`)
    }
    // Every frame was told its outcome.
    const untold = tab.frames.filter((f) => f.settled.length === 0)
    if (untold.length > 0) fail(`tab ${tab.index}: frames ${untold.map((f) => f.payload).join(', ')} never told written or not; ${states}`)
  }
}

/** Per-run connection options: the invariants hold under each. */
const options = fc.record({
  heartbeat: fc.constantFrom<ConnectionOptions['heartbeat']>(false, { interval: 1_000, timeout: 1_000 }),
  reconnect: fc.constantFrom<ConnectionOptions['reconnect']>(true, { minDelay: 100, maxDelay: 1_000 }),
  queue: fc.constantFrom<ConnectionOptions['queue']>(undefined, { max: 2 }),
})

afterEach(() => {
  vi.useRealTimers()
  vi.restoreAllMocks()
})

describe('one socket across tabs, model-based (fake timers)', () => {
  it(`keeps every invariant over ${runs} generated sequences`, { timeout: 600_000 }, async () => {
    // Development warnings and reported drops are expected along the way.
    vi.spyOn(console, 'warn').mockImplementation(() => {})
    vi.spyOn(console, 'error').mockImplementation(() => {})
    await fc.assert(
      fc.asyncProperty(
        options,
        fc.constantFrom(...VIA).chain((via) => fc.tuple(fc.constant(via), fc.commands(via === 'worker' ? workerCommands : commands, { maxCommands: 60, size: 'max', replayPath: process.env.TABS_REPLAY }))),
        fc.integer(),
        async (defaults, [via, sequence], randomSeed) => {
        vi.useFakeTimers({ now: 1_700_000_000_000 })
        FakeWebSocket.reset()
        let state = randomSeed >>> 0
        const random = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32)
        // Tab ids break ties between leaders of one epoch: drawn from the run's seed, so a run replays.
        vi.spyOn(globalThis.crypto, 'randomUUID').mockImplementation(() => `00000000-0000-4000-8000-${Math.floor(random() * 2 ** 48).toString(16).padStart(12, '0')}`)
        const world = new TabsWorld(defaults, random, via)
        try {
          // Two tabs to begin with; more open along the way.
          world.openTab()
          world.openTab()
          await fc.asyncModelRun(() => ({ model: { tabs: 2 }, real: world }), sequence)
          await heal(world)
          if (process.env.TABS_DEBUG) {
            const counts = `${world.tabs.length} tabs, ${world.sockets.length} sockets, ${world.nextFrame - 1} frames, ${world.nextSend - 1} sends, received ${world.tabs.map((t) => t.received.length).join('/')}`
            process.stderr.write(`${counts}: ${[...sequence].join(' ')}\n`)
          }
          for (const tab of world.live()) tab.manager.dispose()
          await settle(10_000)
          const left = [...world.serverSockets(0), ...world.serverSockets(1)]
          if (left.length > 0) fail(`${left.length} sockets still open after every tab disposed its manager`)
          // Every timer has an owner that clears it: none is left once every tab and the worker are done
          // (a crashed page's timers still fire, and do nothing, within this time).
          world.worker?.stop()
          await settle(600_000)
          if (vi.getTimerCount() > 0) fail(`${vi.getTimerCount()} timer(s) left after every tab disposed its manager and the worker stopped`)
        } finally {
          world.worker?.stop()
          vi.useRealTimers()
        }
        },
      ),
      { numRuns: runs, seed, path },
    )
  })
})
