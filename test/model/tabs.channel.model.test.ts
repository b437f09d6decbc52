/**
 * Model-based test of channels across tabs against the real protocol server on loopback:
 * fast-check generates sequences of tab commands (open, release, crash, freeze and resume,
 * hide and show, publish, let the topic go and join it again at once, with the whole history or
 * none), link faults (every shared socket cut at once; with `'worker'`, in one
 * run of ten, the browser ending the SharedWorker) and steps that let
 * the tabs run (one task, or until the group has settled). Several simulated tabs of one
 * in-memory browser profile share one socket, by either transport (drawn per run): `'locks'`
 * (the tabs elect a leader) or `'worker'` (a SharedWorker made of in-memory ports and
 * `serveTabs()` holds it); each tab has its own protocol client, subscribed to one topic with the
 * whole history.
 *
 * After every step: each tab got the topic's messages in sequence order, none twice, from the
 * head it joined at (0 with the whole history), and no publish settled twice. After a heal
 * (every page running and visible): one socket, every tab got every message of the topic
 * exactly once, from there to the head; every publish of a tab still running
 * settled once; each acked publish is stored once.
 *
 * CHANNEL_TABS_RUNS sets the number of runs (default 100, a few seconds). The server and the
 * sockets are real, so a run's timing is not replayed exactly: CHANNEL_TABS_SEED=<seed>
 * CHANNEL_TABS_PATH=<path> CHANNEL_TABS_REPLAY=<replayPath> replays its sequence.
 * CHANNEL_TABS_VIA=locks or CHANNEL_TABS_VIA=worker runs one transport only.
 * CHANNEL_TABS_DEBUG=1 prints each run's sequence and what every tab ended with.
 */
import fc from 'fast-check'
import WebSocket from 'ws'
import { afterAll, beforeAll, describe, it, vi } from 'vitest'
import { ConnectionManager, createManualEnvironment, MemoryProfile, ProtocolClient, protocolConnectionOptions, tabSharing, type Connection, type ManualEnvironment } from '../../src/core'
import type { AckFrame } from '../../src/core/protocol'
import type { WebSocketConstructor } from '../../src/core/types'
import { createRealtimeServer, type PublishedMessage, type RealtimeServer } from '../../src/server'
import { waitFor } from '../support/wait'
import { memoryWorker, type MemoryWorker } from '../tabs/memoryPort'

const runs = Number(process.env.CHANNEL_TABS_RUNS ?? 100)
const seed = process.env.CHANNEL_TABS_SEED === undefined ? undefined : Number(process.env.CHANNEL_TABS_SEED)
const path = process.env.CHANNEL_TABS_PATH
const MAX_TABS = 4
const VIA: ReadonlyArray<'locks' | 'worker'> =
  process.env.CHANNEL_TABS_VIA === 'locks' || process.env.CHANNEL_TABS_VIA === 'worker' ? [process.env.CHANNEL_TABS_VIA] : ['locks', 'worker']
const OPTIONS = { idleTimeout: 0, heartbeat: false, reconnect: { minDelay: 10, maxDelay: 100 } } as const

interface Publish {
  id: number
  settled: number
  outcome: AckFrame | Error | null
}

interface Tab {
  index: number
  env: ManualEnvironment
  manager: ConnectionManager
  connection: Connection
  client: ProtocolClient
  /** Sequence numbers of the topic's messages, as this tab's subscriber got them. */
  received: number[]
  /**
   * The head the subscriber joined at: it is shown base+1, base+2... (0 for a join with the
   * whole history; for a join without history, the seq of its `subscribed`, null until then).
   */
  base: number | null
  /** Lets the topic go (the subscriber's remover). */
  leave: () => void
  publishes: Publish[]
  sockets: WebSocket[]
  gone: 'released' | 'crashed' | null
  frozen: boolean
  hidden: boolean
}

let server: RealtimeServer
const stored: PublishedMessage[] = []
let run = 0

/** A page's WebSocket constructor: each socket it opens goes into `sockets`. */
function socketsInto(sockets: WebSocket[]): WebSocketConstructor {
  return class extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols)
      sockets.push(this)
    }
  } as unknown as WebSocketConstructor
}

class ChannelTabsWorld {
  readonly profile = new MemoryProfile()
  readonly tabs: Tab[] = []
  readonly topic = `room:${++run}`
  nextPublish = 1
  /** With `via: 'worker'`: the SharedWorker, and the sockets it opened. */
  readonly worker: (MemoryWorker & { sockets: WebSocket[] }) | null = null

  constructor(via: 'locks' | 'worker') {
    if (via === 'worker') {
      const sockets: WebSocket[] = []
      this.worker = Object.assign(memoryWorker(OPTIONS, () => createManualEnvironment({ WebSocket: socketsInto(sockets) }, this.profile)), { sockets })
    }
  }

  openTab(): Tab {
    const tab = { index: this.tabs.length, received: [], publishes: [], sockets: [], gone: null, frozen: false, hidden: false } as unknown as Tab
    const worker = this.worker
    // The sockets this tab's page opened: a crashed page's are closed by the browser.
    tab.env = createManualEnvironment({ WebSocket: socketsInto(tab.sockets), ...(worker ? { SharedWorker: class {} } : {}) }, this.profile)
    const shareAcrossTabs = worker ? tabSharing({ via: 'worker', worker: () => worker.create(tab.env.tab) }) : tabSharing()
    tab.manager = new ConnectionManager({ ...OPTIONS, environment: tab.env, shareAcrossTabs })
    tab.connection = tab.manager.acquire(server.url, protocolConnectionOptions)
    tab.client = ProtocolClient.for(tab.connection)
    this.join(tab)
    this.tabs.push(tab)
    return tab
  }

  /**
   * Subscribes the tab's subscriber to the topic: with the whole history it is shown 1..head
   * anew; without, what comes after the head its join is answered at.
   */
  join(tab: Tab, whole = true): void {
    const received: number[] = (tab.received = [])
    tab.base = whole ? 0 : null
    tab.leave = tab.client.subscribe(
      this.topic,
      {
        message: (frame) => frame.seq !== undefined && received.push(frame.seq),
        subscribed: (frame) => {
          if (tab.received === received) tab.base ??= frame.seq
        },
      },
      { history: whole ? 10_000 : 0 },
    )
  }

  running(): Tab[] {
    return this.tabs.filter((t) => !t.gone && !t.frozen)
  }

  live(): Tab[] {
    return this.tabs.filter((t) => !t.gone)
  }

  /** The topic's messages the server stored for this run. */
  head(): number {
    return stored.filter((m) => m.topic === this.topic).length
  }

  /** The sockets of the live tabs and of the worker. */
  sockets(): WebSocket[] {
    return [...this.live().flatMap((t) => t.sockets), ...(this.worker?.sockets ?? [])]
  }

  /** The shared sockets that are open now. */
  openSockets(): WebSocket[] {
    return this.sockets().filter((s) => s.readyState === WebSocket.OPEN)
  }

  /**
   * One socket open (while a tab runs), every running tab open, joined, and with no publish
   * waiting. Or every running tab is hidden: a hidden group spends no retries, so nothing has to
   * move until one shows.
   */
  settled(): boolean {
    const running = this.running()
    if (running.every((t) => t.hidden)) return true
    if (this.openSockets().length !== 1) return false
    return running.every(
      (t) => t.connection.state.status === 'open' && t.client.channels().some((c) => c.topic === this.topic && c.subscribed) && t.publishes.every((p) => p.settled > 0),
    )
  }
}

type Model = { tabs: number }
type Command = fc.AsyncCommand<Model, ChannelTabsWorld>

function fail(message: string): never {
  throw new Error(`invariant: ${message}`)
}

function checkAlways(world: ChannelTabsWorld): void {
  for (const tab of world.tabs) {
    for (let i = 1; i < tab.received.length; i++) {
      if (tab.received[i] !== tab.received[i - 1] + 1) fail(`tab ${tab.index} got seq ${tab.received[i]} after ${tab.received[i - 1]}: ${tab.received.join(',')}`)
    }
    if (tab.received.length > 0 && tab.received[0] !== (tab.base ?? NaN) + 1) {
      fail(`tab ${tab.index}'s first message is seq ${tab.received[0]}, not ${(tab.base ?? NaN) + 1} (${tab.base === 0 ? 'it joined with the whole history' : `it joined at ${tab.base}`})`)
    }
    for (const p of tab.publishes) if (p.settled > 1) fail(`tab ${tab.index}'s publish ${p.id} settled ${p.settled} times`)
  }
}

/** A command on tab `index` (a no-op once that tab is gone; the page's own code, `publish` and `release`, does not run while it is frozen). */
function onTab(name: string, index: number, act: (tab: Tab, world: ChannelTabsWorld) => void, pageCode = false): Command {
  return {
    check: (model) => index < model.tabs,
    async run(_model, world) {
      const tab = world.tabs[index]
      if (!tab.gone && !(pageCode && tab.frozen)) act(tab, world)
      checkAlways(world)
    },
    toString: () => `${name}(${index})`,
  }
}

const index = fc.nat(MAX_TABS - 1)
const openTab = fc.constant<Command>({
  check: (model) => model.tabs < MAX_TABS,
  async run(model, world) {
    world.openTab()
    model.tabs++
  },
  toString: () => 'openTab',
})
const publish = index.map((i) =>
  onTab('publish', i, (tab, world) => {
    const record: Publish = { id: world.nextPublish++, settled: 0, outcome: null }
    tab.publishes.push(record)
    const settle = (outcome: AckFrame | Error) => {
      record.settled++
      record.outcome = outcome
    }
    tab.client.publish(world.topic, { n: record.id }, { timeout: 8_000 }).then(settle, settle)
  }, true),
)
/** One macrotask: what is in flight moves on, so the next command lands mid-way. */
const step = fc.constant<Command>({
  check: () => true,
  async run(_model, world) {
    await new Promise((resolve) => setImmediate(resolve))
    checkAlways(world)
  },
  toString: () => 'step',
})
/** Until every running tab is open, joined and has its publishes answered (bounded). */
const settle = fc.constant<Command>({
  check: () => true,
  async run(_model, world) {
    await waitFor(() => world.settled(), { timeout: 15_000, message: () => `the tabs to settle: ${describeTabs(world)}` })
    checkAlways(world)
  },
  toString: () => 'settle',
})
const commands = [
  openTab,
  openTab,
  publish,
  publish,
  publish,
  step,
  step,
  settle,
  settle,
  index.map((i) =>
    onTab(
      'release',
      i,
      (tab) => {
        tab.gone = 'released'
        tab.manager.release(tab.connection)
      },
      true,
    ),
  ),
  // The page lets the topic go and joins it again at once (a route change and back), while its
  // subscribe may still wait for its answer: the answer to the one let go is not the new one's.
  fc.tuple(index, fc.boolean()).map(([i, whole]) =>
    onTab(
      whole ? 'rejoin' : 'rejoinLive',
      i,
      (tab, world) => {
        tab.leave()
        world.join(tab, whole)
      },
      true,
    ),
  ),
  index.map((i) =>
    onTab('crash', i, (tab) => {
      tab.gone = 'crashed'
      tab.env.tab.crash()
      for (const socket of tab.sockets) socket.terminate()
    }),
  ),
  index.map((i) =>
    onTab('freeze', i, (tab) => {
      if (tab.frozen) return
      tab.frozen = true
      tab.env.emit({ type: 'freeze' })
    }),
  ),
  index.map((i) =>
    onTab('thaw', i, (tab) => {
      if (!tab.frozen) return
      tab.frozen = false
      tab.env.emit({ type: 'resume' })
    }),
  ),
  index.map((i) =>
    onTab('hide', i, (tab) => {
      tab.hidden = true
      tab.env.emit({ type: 'hidden' })
    }),
  ),
  index.map((i) =>
    onTab('show', i, (tab) => {
      tab.hidden = false
      tab.env.emit({ type: 'visible' })
    }),
  ),
  fc.constant<Command>({
    check: () => true,
    async run(_model, world) {
      for (const socket of world.openSockets()) socket.terminate()
      checkAlways(world)
    },
    toString: () => 'cut',
  }),
]
/**
 * With `via: 'worker'`, in one run of ten (the tabs take seconds to notice, on the real clock):
 * the browser ends the SharedWorker while its tabs live; its sockets close.
 */
const killWorker = fc.constant<Command>({
  check: () => true,
  async run(_model, world) {
    const worker = world.worker
    if (worker?.environment) {
      const sockets = [...worker.sockets]
      worker.kill()
      for (const socket of sockets) socket.terminate()
    }
    checkAlways(world)
  },
  toString: () => 'killWorker',
})

function describeTabs(world: ChannelTabsWorld): string {
  return world.tabs
    .map((t) => {
      const { status, role } = t.connection.state
      const pending = t.publishes.filter((p) => p.settled === 0).length
      const channel = t.client.channels().find((c) => c.topic === world.topic)
      const joined = channel?.subscribed ? 'joined' : `not joined (${JSON.stringify(channel)})`
      return `tab ${t.index}${t.gone ? ` ${t.gone}` : ''}${t.frozen ? ' frozen' : ''} ${role} ${status} ${joined}, got ${t.received.length} from ${t.base}, ${pending} publishes waiting`
    })
    .join('; ')
}

async function heal(world: ChannelTabsWorld): Promise<void> {
  for (const tab of world.live()) {
    if (tab.frozen) tab.env.emit({ type: 'resume' })
    tab.frozen = false
    tab.hidden = false
    tab.env.emit({ type: 'visible' })
  }
  await waitFor(() => world.settled(), { timeout: 15_000, message: () => `the tabs to heal: ${describeTabs(world)}` })
  const live = world.live()
  // One socket open for the group.
  const open = world.openSockets()
  if (live.length > 0 && open.length !== 1) fail(`${open.length} sockets open after healing: ${describeTabs(world)}`)
  // Every message stored is seen by every tab, once, in order.
  // (The server tells of a stored message once it is fanned out: the count may trail a tab's.)
  await waitFor(() => live.every((t) => t.base !== null && t.received.length === world.head() - t.base), {
    timeout: 10_000,
    message: () => `every tab to have seq base+1..${world.head()}: ${describeTabs(world)}`,
  })
  checkAlways(world)
  // Each acked publish is stored once; a stored one is one that was published.
  const ids = stored.filter((m) => m.topic === world.topic).map((m) => (m.data as { n: number }).n)
  if (new Set(ids).size !== ids.length) fail(`a publish was stored twice: ${ids.join(',')}`)
  for (const t of world.tabs) {
    if (t.gone === 'crashed') continue
    for (const p of t.publishes) {
      if (p.settled !== 1) fail(`tab ${t.index}'s publish ${p.id} settled ${p.settled} times`)
      if (p.outcome && !(p.outcome instanceof Error) && !ids.includes(p.id)) fail(`tab ${t.index}'s publish ${p.id} was acked but not stored`)
    }
  }
}

beforeAll(async () => {
  server = createRealtimeServer({ port: 0, host: '127.0.0.1', presence: false })
  await server.ready
  server.on('publish', (m) => stored.push(m))
})
afterAll(async () => {
  await server.close({ timeout: 200 })
})

describe('channels across tabs, model-based (real server on loopback)', () => {
  it(`keeps every invariant over ${runs} generated sequences`, { timeout: 600_000 }, async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => {})
    vi.spyOn(console, 'error').mockImplementation(() => {})
    await fc.assert(
      fc.asyncProperty(
        fc.tuple(fc.constantFrom(...VIA), fc.nat(9)).chain(([via, draw]) =>
          fc.tuple(fc.constant(via), fc.commands(via === 'worker' && draw === 0 ? [...commands, killWorker] : commands, { maxCommands: 30, size: 'max', replayPath: process.env.CHANNEL_TABS_REPLAY })),
        ),
        async ([via, sequence]) => {
        const world = new ChannelTabsWorld(via)
        world.openTab()
        world.openTab()
        try {
          await fc.asyncModelRun(() => ({ model: { tabs: 2 }, real: world }), sequence)
          await heal(world)
          if (process.env.CHANNEL_TABS_DEBUG) process.stderr.write(`head ${world.head()}; ${describeTabs(world)}: ${[...sequence].join(' ')}\n`)
        } finally {
          for (const tab of world.tabs) if (tab.gone !== 'crashed') tab.manager.dispose()
          world.worker?.stop()
          for (const socket of [...world.tabs.flatMap((t) => t.sockets), ...(world.worker?.sockets ?? [])]) socket.terminate()
        }
        },
      ),
      { numRuns: runs, seed, path },
    )
  })
})
