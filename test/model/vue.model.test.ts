/**
 * Model-based test of the Vue layer over the core (fake timers): an app with the plugin and
 * Pinia, whose components (effect scopes) come and go, switch URLs, open, close, clear and send
 * through `useWebSocket`, and whose store connects, disconnects and sends, while the browser,
 * the server (played through `ModelSocket`s) and the clock do what test/model/commands.ts does.
 * After every step, once Vue's watchers and the message flushes have run:
 *
 * - each component holds the connection it should (its URL's once it asked for one, with
 *   `immediate` or `open()`, until its URL changes; none for an undefined or invalid URL), and
 *   every ref mirrors that connection's state (or the idle state), `retryIn` the countdown to
 *   its retry;
 * - `onMessage` got every message that reached the component through its filter, once and in
 *   order; `messages` is the newest `maxMessages` of them since its last `clear()`, and `data`
 *   the newest of them all;
 * - the store shows exactly the manager's connections with their state, `openCount` and
 *   `anyReconnecting` agree, and one socket at most is live per URL;
 * - every message sent through a component or the store is written once or counted as dropped
 *   (test/model/invariants.ts, `checkSends`).
 *
 * In the end every component is unmounted and the store and the manager disposed: no timer is
 * left. VUE_RUNS sets the number of runs (default 1000); replay a failure with VUE_SEED and
 * VUE_PATH.
 */
import fc from 'fast-check'
import { createPinia, setActivePinia, type Pinia } from 'pinia'
import { createApp, effectScope, nextTick, shallowRef, type App, type EffectScope, type ShallowRef } from 'vue'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { IDLE_STATE } from '../../src/core/connection'
import type { Connection } from '../../src/core/connection'
import type { ConnectionOptions } from '../../src/core/types'
import { createRealtime, useWebSocket, type UseWebSocketReturn } from '../../src'
import type { FlushMode } from '../../src/vue/messageBuffer'
import { useRealtimeStore, type RealtimeStore } from '../../src/pinia'
import { browserCommands, fakeServerCommands, type Model as CoreModel } from './commands'
import { checkSends } from './invariants'
import { ModelSocket, URLS, World } from './world'

const runs = Number(process.env.VUE_RUNS ?? 1_000)
const seed = process.env.VUE_SEED === undefined ? undefined : Number(process.env.VUE_SEED)
const path = process.env.VUE_PATH

/** A message as the server sends it: `n` numbers every message of a run. */
interface Message {
  n?: number
  data?: number
}

/** Where a component points: a site's URL, no URL, or one the manager refuses. */
type Target = 0 | 1 | 'none' | 'invalid'
const INVALID_URL = 'ftp://c.test/three'
const urlOf = (target: Target): string | undefined => (target === 'none' ? undefined : target === 'invalid' ? INVALID_URL : URLS[target])

/** Keeps messages with an even `n` (and those without one). */
const evenOnly = (message: Message): boolean => typeof message.n !== 'number' || message.n % 2 === 0

interface Component {
  scope: EffectScope
  /** The URL the component is given (its `useWebSocket` watches it). */
  ref: ShallowRef<Target>
  /** The URL in effect: a new one takes effect when Vue runs the composable's watcher, after the turn. */
  target: Target
  ws: UseWebSocketReturn<Message, string>
  maxMessages: number
  filter: boolean
  /** Wants a connection: `immediate`, or `open()`/`reconnect()` since; not since `close()`. */
  active: boolean
  /** Holds its URL's connection: acquired when active (at mount, on a new URL, on `open()`), until its URL changes. */
  attached: boolean
  /** Its URL is invalid and it tried to connect to it (status `failed`, an `invalid-url` error), until its URL changes. */
  failed: boolean
  /** Every message that reached it through its filter, and where its last `clear()` cut. */
  received: Message[]
  clearedAt: number
  /** What its `onMessage` got. */
  heard: Message[]
}

/** The app, its store and its components, on a `World` whose sockets are routed by URL. */
class VueWorld {
  readonly world: World<ModelSocket>
  readonly app: App
  readonly pinia: Pinia
  store: RealtimeStore
  readonly components: Component[] = []
  #n = 0

  constructor(defaults: ConnectionOptions) {
    let world!: World<ModelSocket>
    // One environment for every connection (the manager's, counted): a component may switch
    // from one URL to the other, and the first acquirer's options are the connection's.
    class Routed extends ModelSocket {
      constructor(url: string) {
        super()
        world.sites[world.urls.indexOf(url)].sockets.push(this)
      }
    }
    world = new World<ModelSocket>({ ...defaults, WebSocket: Routed })
    this.world = world
    this.pinia = createPinia()
    this.app = createApp({ render: () => null })
    this.app.use(this.pinia)
    this.app.use(createRealtime({ manager: world.manager, devtools: false }))
    setActivePinia(this.pinia)
    this.store = this.app.runWithContext(() => useRealtimeStore())
  }

  mount(target: Target, options: { maxMessages: number; flush: FlushMode; filter: boolean; immediate: boolean }): void {
    const scope = effectScope(true)
    const ref = shallowRef<Target>(target)
    const heard: Message[] = []
    const ws = this.app.runWithContext(() =>
      scope.run(() =>
        useWebSocket<Message, string>(() => urlOf(ref.value), {
          maxMessages: options.maxMessages,
          flush: options.flush,
          immediate: options.immediate,
          onMessage: (message) => void heard.push(message),
          ...(options.filter ? { filter: evenOnly } : {}),
        }),
      ),
    )!
    const c: Component = { scope, ref, target, ws, maxMessages: options.maxMessages, filter: options.filter, active: options.immediate, attached: false, failed: false, received: [], clearedAt: 0, heard }
    if (c.active) this.attach(c)
    this.components.push(c)
  }

  /** The model of `useWebSocket`'s attach: a valid URL is acquired, an invalid one fails. */
  attach(c: Component): void {
    if (c.attached) return
    c.attached = typeof c.target === 'number'
    c.failed = c.target === 'invalid'
  }

  /** The composable's watcher ran: a component whose URL changed releases the old and acquires the new. */
  watchersRan(): void {
    for (const c of this.components) {
      if (urlOf(c.ref.value) === urlOf(c.target)) continue
      c.target = c.ref.value
      c.attached = c.failed = false
      if (c.active) this.attach(c)
    }
  }

  /** The connection a component should hold. */
  expectedConnection(component: Component): Connection | undefined {
    const { target } = component
    if (!component.attached || typeof target !== 'number') return undefined
    return this.world.manager.get(URLS[target])
  }

  /** The server sends a numbered message on site `s`'s socket, and the model delivers it. */
  serverMessage(s: number): void {
    const socket = this.world.current(s)
    if (socket?.readyState !== 1) return
    const message: Message = { n: ++this.#n }
    this.deliver(s, message)
    socket.receive(JSON.stringify(message))
  }

  /** Records `message` as reaching every component that holds site `s`'s connection, through its filter. */
  deliver(s: number, message: Message): void {
    const connection = this.world.manager.get(URLS[s])
    if (connection?.status !== 'open') return
    for (const component of this.components) {
      if (this.expectedConnection(component) !== connection) continue
      if (component.filter && !evenOnly(message)) continue
      component.received.push(message)
    }
  }
}

/** A step of the model; `act` is what it does, before Vue's watchers and the flushes run. */
interface Command extends fc.AsyncCommand<Record<string, never>, VueWorld> {
  act: (vue: VueWorld) => void
}

/** Lets Vue's watchers, the message flushes and the store's updates run. */
async function settle(): Promise<void> {
  await nextTick()
  for (let i = 0; i < 4; i++) await Promise.resolve()
}

function command(name: string, run: (vue: VueWorld) => void, needsComponent = false): Command {
  const act = (vue: VueWorld): void => {
    if (!needsComponent || vue.components.length > 0) run(vue)
  }
  return {
    act,
    check: () => true,
    run: async (_model, vue) => {
      act(vue)
      vue.watchersRan()
      await settle()
      checkVueInvariants(vue)
    },
    toString: () => name,
  }
}

/** Two steps in one turn of the event loop: the second comes before the watchers and flushes the first set off. */
function together(first: Command, second: Command): Command {
  return command(`${first.toString()} & ${second.toString()}`, (vue) => {
    first.act(vue)
    second.act(vue)
  })
}

const component = fc.nat({ max: 7 })
const pick = (vue: VueWorld, i: number): Component => vue.components[i % vue.components.length]
const target = fc.constantFrom<Target>(0, 1, 0, 1, 'none', 'invalid')
const site = fc.integer({ min: 0, max: URLS.length - 1 })

/** Sends a numbered text message through `send`, recorded for `checkSends`. */
function sendThrough(vue: VueWorld, connection: Connection | undefined, s: number, send: (text: string) => 'sent' | 'queued' | 'dropped'): void {
  if (!connection) {
    expect(send(JSON.stringify({ m: 'nowhere' }))).toBe('dropped')
    return
  }
  const record = vue.world.record(connection, s)
  const id = vue.world.nextMessageId(record)
  record.sends.push({ id, result: send(JSON.stringify({ m: id })) })
}

const mount = fc
  .record({ target, maxMessages: fc.constantFrom(0, 1, 3, 50), flush: fc.constantFrom<FlushMode>('frame', 'microtask', 'sync'), filter: fc.boolean(), immediate: fc.boolean() })
  .map((o) => command(`mount(${JSON.stringify(o)})`, (vue) => vue.mount(o.target, o)))

const vueCommands: fc.Arbitrary<Command>[] = [
  mount,
  component.map((i) =>
    command(
      `unmount(${i})`,
      (vue) => {
        const [gone] = vue.components.splice(i % vue.components.length, 1)
        gone.scope.stop()
      },
      true,
    ),
  ),
  fc.tuple(component, target).map(([i, t]) => command(`setUrl(${i}, ${t})`, (vue) => void (pick(vue, i).ref.value = t), true)),
  fc.tuple(component, fc.constantFrom('open', 'reconnect')).map(([i, action]) =>
    command(
      `${action}(${i})`,
      (vue) => {
        const c = pick(vue, i)
        c.active = true
        vue.attach(c)
        c.ws[action]()
      },
      true,
    ),
  ),
  fc.tuple(component, fc.constantFrom(1000, 4000)).map(([i, code]) =>
    command(
      `close(${i}, ${code})`,
      (vue) => {
        const c = pick(vue, i)
        c.active = false
        c.ws.close(code)
      },
      true,
    ),
  ),
  component.map((i) =>
    command(
      `clear(${i})`,
      (vue) => {
        const c = pick(vue, i)
        c.clearedAt = c.received.length
        c.ws.clear()
      },
      true,
    ),
  ),
  fc.tuple(component, fc.boolean()).map(([i, volatile]) =>
    command(
      `send(${i}${volatile ? ', volatile' : ''})`,
      (vue) => {
        const c = pick(vue, i)
        const t = c.target
        sendThrough(vue, c.ws.connection.value as Connection | undefined, typeof t === 'number' ? t : 0, (text) => c.ws.send(text, { volatile }))
      },
      true,
    ),
  ),
  // What app.unmount() does: held connections stay known, closed, until reopened or released.
  fc.constant(command('manager.closeAll()', (vue) => vue.world.manager.closeAll())),
  site.map((s) => command(`store.connect(${s})`, (vue) => void vue.store.connect(URLS[s]))),
  site.map((s) => command(`store.disconnect(${s})`, (vue) => vue.store.disconnect(URLS[s]))),
  site.map((s) => command(`store.send(${s})`, (vue) => sendThrough(vue, vue.world.manager.get(URLS[s]), s, (text) => vue.store.send(URLS[s], text)))),
  fc.constant(
    command('store.$dispose() and a new store', (vue) => {
      vue.store.$dispose()
      delete vue.pinia.state.value.realtime
      vue.store = vue.app.runWithContext(() => useRealtimeStore())
    }),
  ),
  // The server accepts and sends often: most invariants are about what open connections bring.
  ...Array.from({ length: 4 }, () => site.map((s) => command(`accept(${s})`, (vue) => vue.world.current(s)?.readyState === 0 && vue.world.current(s)!.accept()))),
  ...Array.from({ length: 6 }, () =>
    fc.tuple(site, fc.integer({ min: 1, max: 5 })).map(([s, count]) =>
      command(`messages(${s}, ${count})`, (vue) => {
        for (let i = 0; i < count; i++) vue.serverMessage(s)
      }),
    ),
  ),
]

/** The commands of one turn: a component's, the store's, the server's, or two of them at once. */
const steps = (all: fc.Arbitrary<Command>[]): fc.Arbitrary<Command>[] => [...all, fc.tuple(fc.oneof(...all), fc.oneof(...all)).map(([a, b]) => together(a, b))]

/** The core model's browser, server and clock commands, run on the Vue world. */
const worldCommands: fc.Arbitrary<Command>[] = [...browserCommands, ...fakeServerCommands].map((arbitrary) =>
  arbitrary.map((core) => {
    const name = core.toString()
    // `data(s)`: the same message every time; the model delivers it too.
    const s = /^data\((\d)\)$/.exec(name)
    return command(name, (vue) => {
      if (s && vue.world.current(Number(s[1]))?.readyState === 1) vue.deliver(Number(s[1]), { data: 1 })
      core.run({ consumers: 0 } satisfies CoreModel, vue.world)
    })
  }),
)

function fail(message: string): never {
  throw new Error(`invariant: ${message}`)
}

const MIRRORED = ['readyState', 'status', 'attempt', 'nextRetryAt', 'lastClose', 'latency', 'queued', 'dropped', 'role', 'uncertain'] as const

/**
 * `settled`: the clock moved past the counters' fold since the last frame, so the store's
 * `received` and `sent` are the connection's; otherwise they may lag behind by ~16 ms (published
 * at most once per fold, see `ConnectionState.received`).
 */
function checkVueInvariants(vue: VueWorld, { settled = false } = {}): void {
  const { world, store } = vue
  vue.components.forEach((c, index) => {
    const expected = vue.expectedConnection(c)
    const held = c.ws.connection.value
    const where = `component ${index} (${String(c.target)}, ${c.active ? 'active' : 'inactive'}${c.attached ? ', attached' : ''})`
    if (held !== expected) fail(`${where} holds ${held?.url ?? 'nothing'} ${held ? held.status : ''}, expected ${expected?.url ?? 'nothing'}`)
    if (c.attached && !expected) fail(`${where}: the manager has no connection for it`)
    const state = expected?.state ?? (c.failed ? { ...IDLE_STATE, status: 'failed' as const } : IDLE_STATE)
    for (const key of MIRRORED) {
      const value: unknown = c.ws[key].value
      if (!Object.is(value, state[key]) && JSON.stringify(value) !== JSON.stringify(state[key])) fail(`${where}: ${key} is ${JSON.stringify(value)}, the connection's ${JSON.stringify(state[key])}`)
    }
    if (c.failed && c.ws.error.value?.kind !== 'invalid-url') fail(`${where}: no invalid-url error`)
    // The countdown ticks on timers and reads the wall clock on each tick: after the wall clock
    // jumped (a laptop woke up, the time was set), it shows the new time from its next tick on.
    const retry = expected?.state.status === 'reconnecting' && expected.state.nextRetryAt !== null ? Math.ceil(Math.max(0, expected.state.nextRetryAt - world.managerEnv.now()) / 1000) : null
    if (world.browser.skew === 0 && c.ws.retryIn.value !== retry) fail(`${where}: retryIn ${c.ws.retryIn.value}, expected ${retry}`)
    if ((c.ws.retryIn.value === null) !== (retry === null)) fail(`${where}: retryIn ${c.ws.retryIn.value}, expected ${retry}`)
    const shown = c.maxMessages === 0 ? [] : c.received.slice(Math.max(c.clearedAt, c.received.length - c.maxMessages))
    if (JSON.stringify(c.ws.messages.value) !== JSON.stringify(shown)) fail(`${where}: messages ${JSON.stringify(c.ws.messages.value)}, expected ${JSON.stringify(shown)}`)
    // onMessage: every message that passed the filter, once, in order, whatever the flush mode.
    if (JSON.stringify(c.heard) !== JSON.stringify(c.received)) fail(`${where}: onMessage got ${JSON.stringify(c.heard)}, expected ${JSON.stringify(c.received)}`)
    const newest = c.received.at(-1)
    if (c.ws.data.value !== newest && JSON.stringify(c.ws.data.value) !== JSON.stringify(newest)) fail(`${where}: data ${JSON.stringify(c.ws.data.value)}, expected ${JSON.stringify(newest)}`)
  })

  // The store: exactly the manager's connections, with their state.
  const connections = [...world.manager.connections.values()]
  const entries = Object.values(store.connections)
  if (entries.length !== connections.length) fail(`the store shows ${entries.length} connections, the manager has ${connections.length}`)
  for (const connection of connections) {
    const entry = entries.find((e) => e.url === connection.url)
    if (!entry) fail(`the store does not show ${connection.url}`)
    for (const key of MIRRORED) {
      if (JSON.stringify(entry[key]) !== JSON.stringify(connection.state[key])) fail(`the store's ${connection.url} ${key} is ${JSON.stringify(entry[key])}, the connection's ${JSON.stringify(connection.state[key])}`)
    }
    for (const key of ['received', 'sent'] as const) {
      if (settled ? entry[key] !== connection.state[key] : entry[key] > connection.state[key]) fail(`the store's ${connection.url} ${key} is ${entry[key]}, the connection's ${connection.state[key]}${settled ? ' after the fold' : ''}`)
    }
  }
  const open = connections.filter((c) => c.status === 'open').length
  if (store.openCount !== open) fail(`openCount ${store.openCount}, ${open} open`)
  if (store.anyReconnecting !== connections.some((c) => c.status === 'reconnecting')) fail(`anyReconnecting ${store.anyReconnecting}`)

  world.sites.forEach((s, index) => {
    const live = s.sockets.filter((socket) => socket.live).length
    if (live > 1) fail(`${live} live sockets for site ${index}`)
  })
  checkSends(world)
}

/** Connection options, drawn per run. */
const options = fc.record({
  heartbeat: fc.constantFrom<ConnectionOptions['heartbeat']>(false, { interval: 1_000, timeout: 500 }),
  reconnect: fc.constantFrom<ConnectionOptions['reconnect']>(false, { minDelay: 100, maxDelay: 1_000 }, { minDelay: 100, maxDelay: 4_000, retries: 6 }, { minDelay: 1_500, maxDelay: 9_000 }),
  queue: fc.record({ max: fc.constantFrom(1, 4, 100), overflow: fc.constantFrom('drop-oldest' as const, 'drop-newest' as const) }),
  connectTimeout: fc.constantFrom(500, 2_000),
  idleTimeout: fc.constantFrom(0, 500),
})

afterEach(() => {
  vi.useRealTimers()
  vi.restoreAllMocks()
})

describe('the Vue layer (useWebSocket, the plugin, the Pinia store) over the core, model-based (fake timers)', () => {
  it(`keeps every invariant over ${runs} generated sequences`, { timeout: 600_000 }, async () => {
    // Development warnings (a send without a connection, conflicting options) are expected along the way.
    vi.spyOn(console, 'warn').mockImplementation(() => {})
    vi.spyOn(console, 'error').mockImplementation(() => {})
    await fc.assert(
      // Every run starts with components mounted and their sockets accepted.
      fc.asyncProperty(options, fc.array(mount, { minLength: 1, maxLength: 4 }), fc.commands(steps([...vueCommands, ...worldCommands]), { maxCommands: 50, size: 'max' }), async (defaults, mounts, sequence) => {
        vi.useFakeTimers({ now: 1_700_000_000_000, toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] })
        const vue = new VueWorld(defaults)
        vue.world.advance = (ms) => vi.advanceTimersByTime(ms)
        try {
          for (const start of mounts) await start.run({}, vue)
          for (const s of [0, 1]) if (vue.world.current(s)?.readyState === 0) vue.world.current(s)!.accept()
          await settle()
          await fc.asyncModelRun(() => ({ model: {}, real: vue }), sequence)
          // The counters' fold has run: the store shows every connection's counters as they are.
          vi.advanceTimersByTime(20)
          await settle()
          checkVueInvariants(vue, { settled: true })
          // The end of every life: every component unmounted, the store and the manager disposed.
          for (const c of vue.components.splice(0)) c.scope.stop()
          vue.store.$dispose()
          vue.world.manager.dispose()
          await settle()
          vi.advanceTimersByTime(60_000)
          if (vi.getTimerCount() !== 0) throw new Error(`invariant: ${vi.getTimerCount()} timers left after every component, the store and the manager were disposed`)
        } finally {
          vi.useRealTimers()
        }
      }),
      { numRuns: runs, seed, path, endOnFailure: false },
    )
  })
})
