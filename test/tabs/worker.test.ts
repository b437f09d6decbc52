/**
 * `via: 'worker'` in Node: a "SharedWorker" made of MessageChannels and serveTabs() on a fake
 * worker scope, a real `ws` server on loopback. The worker holds the one socket; every tab follows.
 */
import { MessageChannel } from 'node:worker_threads'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ConnectionManager, createManualEnvironment, MemoryProfile, serveTabs, tabSharing, type Connection, type ManualEnvironment, type MessagePortLike, type SharedWorkerScopeLike } from '../../src/core'
import { FakeWebSocket } from '../core/fakeSocket'
import { waitFor } from '../support/wait'
import { NodeWebSocket, startServer, type TestServer } from '../vue/helpers'
import { settle } from './harness'
import { memoryWorker, type MemoryWorker } from './memoryPort'

let server: TestServer
let profile: MemoryProfile
let stopWorker: () => void
let connect: (event: { ports: readonly MessagePortLike[] }) => void
const managers: ConnectionManager[] = []

/** Starts the worker on a fake scope; it shares the tabs' Web Locks (it learns of a crashed tab through the lock the tab held). */
function startWorker(environment = createManualEnvironment({}, profile)): void {
  const scope: SharedWorkerScopeLike = {
    addEventListener: (_type, listener) => (connect = listener),
    removeEventListener: () => {},
  }
  stopWorker = serveTabs({ WebSocket: NodeWebSocket, idleTimeout: 0, environment }, scope)
}

beforeEach(async () => {
  server = await startServer()
  profile = new MemoryProfile()
  startWorker()
})
afterEach(async () => {
  for (const m of managers.splice(0)) m.dispose()
  stopWorker()
  await server.close()
})

function openTab() {
  const worker = () => {
    const { port1, port2 } = new MessageChannel()
    connect({ ports: [port2 as unknown as MessagePortLike] })
    return { port: port1 as unknown as MessagePortLike }
  }
  const manager = new ConnectionManager({
    heartbeat: false,
    idleTimeout: 0,
    environment: Object.assign(createManualEnvironment({}, profile), { SharedWorker: class {} }),
    shareAcrossTabs: tabSharing({ via: 'worker', worker }),
  })
  managers.push(manager)
  const connection = manager.acquire(server.url('/w'))
  const messages: unknown[] = []
  connection.on('message', (m) => messages.push(m))
  return { manager, connection, messages, env: manager.defaults.environment as ReturnType<typeof createManualEnvironment> }
}

describe('tabSharing({ via: "worker" })', () => {
  it('the worker holds one socket for every tab; all follow, see every message, and each send arrives once', async () => {
    const tabs = [openTab(), openTab(), openTab()]
    await waitFor(() => tabs.every((t) => t.connection.state.status === 'open'), { message: 'every tab open' })
    expect(server.accepted).toHaveLength(1)
    expect(tabs.map((t) => t.connection.state.role)).toEqual(['follower', 'follower', 'follower'])
    server.broadcast('{"n":1}')
    await waitFor(() => tabs.every((t) => t.messages.length === 1))
    for (const t of tabs) expect(t.messages).toEqual([{ n: 1 }])
    tabs[1].connection.send('from 1')
    tabs[2].connection.send({ from: 2 })
    await waitFor(() => server.received.length === 2)
    expect([...server.received].sort()).toEqual(['{"from":2}', 'from 1'].sort())
    // A tab leaving stops nothing; the last one leaving closes the socket.
    tabs[0].manager.dispose()
    tabs[1].manager.dispose()
    server.broadcast('"still"')
    await waitFor(() => tabs[2].messages.length === 2)
    tabs[2].manager.dispose()
    await waitFor(() => server.open() === 0, { message: 'the worker closed its socket' })
  })

  it('a tab that crashes stops counting: the socket closes when the last live tab leaves', async () => {
    const tabs = [openTab(), openTab()]
    await waitFor(() => tabs.every((t) => t.connection.state.status === 'open'))
    tabs[0].env.tab.crash()
    tabs[1].manager.dispose()
    await waitFor(() => server.open() === 0, { message: 'the worker let its socket go' })
  })

  it('a tab back from the bfcache follows a worker whose clock was set back since the group it knew', async () => {
    const tab = openTab()
    await waitFor(() => tab.connection.state.status === 'open')
    tab.env.emit({ type: 'pagehide', persisted: true })
    await waitFor(() => server.open() === 0, { message: 'the group closed its socket once its only tab left' })
    // The browser ended the worker meanwhile; the next one runs an hour behind.
    stopWorker()
    startWorker(createManualEnvironment({ now: () => Date.now() - 3_600_000 }, profile))
    tab.env.emit({ type: 'pageshow', persisted: true })
    await waitFor(() => tab.connection.state.status === 'open', { message: 'the tab follows the new worker' })
    expect(server.open()).toBe(1)
  })

  it('a tab that crashes right after it made its port (before it held its lock) never counts', async () => {
    const ghost = openTab()
    ghost.env.tab.crash()
    const tab = openTab()
    await waitFor(() => tab.connection.state.status === 'open')
    tab.manager.dispose()
    await waitFor(() => server.open() === 0, { message: 'the worker let its socket go (no port left behind by the crashed tab)' })
  })
})

/**
 * The browser ends a SharedWorker while its tabs live (its process crashed, or was killed under
 * memory pressure): a MessagePort says nothing when its other end dies. Fake timers; the worker
 * is a page of in-memory ports and `serveTabs()` (see memoryPort.ts), its sockets FakeWebSockets.
 */
describe('a SharedWorker the browser ends while its tabs live', () => {
  let browser: MemoryProfile
  let worker: MemoryWorker
  /** The sockets of each worker started, in order. */
  let sockets: FakeWebSocket[][]
  let tabs: Array<{ manager: ConnectionManager; connection: Connection; env: ManualEnvironment; messages: unknown[]; errors: string[] }>
  /** Each call of the app's `worker()` factory throws while this is above 0 (and counts down). */
  let failing: number

  beforeEach(() => {
    vi.useFakeTimers()
    FakeWebSocket.reset()
    browser = new MemoryProfile()
    sockets = []
    tabs = []
    failing = 0
    worker = memoryWorker({ heartbeat: false, idleTimeout: 0 }, () => {
      const mine: FakeWebSocket[] = []
      sockets.push(mine)
      const WebSocket = class extends FakeWebSocket {
        constructor(url: string, protocols?: string | string[]) {
          super(url, protocols)
          mine.push(this)
        }
      }
      return createManualEnvironment({ random: () => 0.5, WebSocket }, browser)
    })
  })
  afterEach(() => {
    for (const tab of tabs) tab.manager.dispose()
    worker.stop()
    vi.useRealTimers()
  })

  function tab() {
    const env = createManualEnvironment({ random: () => 0.5, SharedWorker: class {} }, browser)
    const factory = () => {
      if (failing > 0 && failing--) throw new Error('the browser refused the worker')
      return worker.create(env.tab)
    }
    const manager = new ConnectionManager({ WebSocket: FakeWebSocket, heartbeat: false, idleTimeout: 0, environment: env, shareAcrossTabs: tabSharing({ via: 'worker', worker: factory }) })
    const connection = manager.acquire('ws://127.0.0.1:1/socket')
    const t = { manager, connection, env, messages: [] as unknown[], errors: [] as string[] }
    connection.on('message', (m) => t.messages.push(m))
    connection.on('error', (e) => t.errors.push(e.message))
    tabs.push(t)
    return t
  }

  /** The running worker's sockets that are open or connecting. */
  const live = () => (sockets.at(-1) ?? []).filter((s) => s.readyState < 2)
  const writes = (payload: string) => sockets.flat().reduce((n, s) => n + s.sent.filter((d) => d === payload).length, 0)

  /** Advances a second at a time (at most a minute) until `done`. */
  async function until(done: () => boolean, what: string): Promise<void> {
    for (let i = 0; i < 60 && !done(); i++) await settle(1_000)
    if (!done()) throw new Error(`not within a minute: ${what}`)
  }

  /** Two tabs on one worker, its socket open. */
  async function twoTabsOpen() {
    const a = tab()
    const b = tab()
    await settle()
    live()[0].accept()
    await settle()
    expect([a, b].map((t) => t.connection.state.status)).toEqual(['open', 'open'])
    return { a, b }
  }

  /** The browser ends the worker: its page stops, its sockets close (the server sees them go). */
  function kill(): void {
    worker.kill()
    for (const socket of sockets.at(-1) ?? []) socket.terminate()
  }

  it('the tabs notice, start a new worker and share its one socket; a send the dead one took counts as uncertain', async () => {
    const { a, b } = await twoTabsOpen()
    live()[0].receive('1')
    a.connection.send('before')
    await settle()
    kill()
    a.connection.send('into the dead port')
    await settle()
    await until(() => worker.started === 2 && live().length === 1, 'a new worker opens a socket')
    live()[0].accept()
    await until(() => [a, b].every((t) => t.connection.state.status === 'open'), 'every tab open again')
    live()[0].receive('2')
    a.connection.send('after')
    b.connection.send('after b')
    await settle()
    expect([a.messages, b.messages]).toEqual([[1, 2], [1, 2]])
    expect([writes('before'), writes('into the dead port'), writes('after'), writes('after b')]).toEqual([1, 0, 1, 1])
    expect(a.connection.state).toMatchObject({ role: 'follower', queued: 0, dropped: 0, uncertain: 1 })
    expect(b.connection.state).toMatchObject({ role: 'follower', uncertain: 0 })
    expect(worker.stale()).toBe(0)
    expect(sockets.map((mine) => mine.length)).toEqual([1, 1])
  })

  it('what the dead worker held in its outbox counts as uncertain; what it never had goes to the new one, once, in order', async () => {
    const a = tab()
    await settle()
    // The worker's socket is still connecting: a send waits in its outbox, confirmed as queued.
    a.connection.send('held')
    await settle()
    kill()
    const later: string[] = []
    // Sent the moment the tab concludes its worker is gone, before the next one has it.
    a.connection.on('state', (state) => {
      if (state.status !== 'connecting' || later.length > 0) return
      later.push('never had 1', 'never had 2')
      for (const payload of later) a.connection.send(payload)
    })
    await until(() => live().length === 1, 'a new worker opens a socket')
    expect(later).toHaveLength(2)
    live()[0].accept()
    await until(() => a.connection.state.status === 'open' && a.connection.state.queued === 0, 'the tab open, nothing queued')
    expect(live()[0].sent).toEqual(['never had 1', 'never had 2'])
    expect(writes('held')).toBe(0)
    expect(a.connection.state).toMatchObject({ queued: 0, dropped: 0, uncertain: 1 })
    expect(a.errors.some((e) => e.includes('may or may not have reached the server'))).toBe(true)
  })

  it('a frame the dead worker took is told written (it may have been: never sent twice)', async () => {
    const { a } = await twoTabsOpen()
    kill()
    const told: boolean[] = []
    expect(a.connection.sendFrame('request', (written) => told.push(written))).toBe('queued')
    await until(() => told.length > 0, 'the frame told its outcome')
    expect(told).toEqual([true])
  })

  it('a close() made after the worker died holds under the new one: it starts closed and opens no socket', async () => {
    const { a, b } = await twoTabsOpen()
    kill()
    a.connection.close(4000, 'done')
    await until(() => worker.started === 2 && worker.stale() === 0, 'both tabs on a new worker')
    await settle(5_000)
    expect(sockets[1]).toEqual([])
    expect([a, b].map((t) => t.connection.state.status)).toEqual(['closed', 'closed'])
  })

  it('an open() made after the worker died, over a close() made before, opens the new worker\'s socket', async () => {
    const { a, b } = await twoTabsOpen()
    a.connection.close()
    await settle()
    sockets[0][0].finishClose()
    await settle()
    expect(b.connection.state.status).toBe('closed')
    kill()
    b.connection.open()
    await until(() => live().length === 1, 'the new worker opens its socket')
    live()[0].accept()
    await until(() => [a, b].every((t) => t.connection.state.status === 'open'), 'every tab open')
  })

  it('a worker() factory that throws is reported, and called again until it gives a worker (the first call too)', async () => {
    failing = 1
    const a = tab()
    await settle()
    expect(a.connection.state.status).toBe('connecting')
    // Reported while the manager acquired it (before the test listened): the state shows it.
    expect(a.connection.state.error?.message).toContain('the browser refused the worker')
    expect(a.connection.send('kept')).toBe('queued')
    await until(() => live().length === 1, 'the factory called again')
    live()[0].accept()
    await until(() => a.connection.state.status === 'open' && a.connection.state.queued === 0, 'open, its send written')
    expect(writes('kept')).toBe(1)
    // Killed, and the next call fails twice: the tab backs off and tries again.
    kill()
    failing = 2
    await until(() => worker.started === 2 && live().length === 1, 'a new worker at the third call')
    live()[0].accept()
    await until(() => a.connection.state.status === 'open', 'open again')
    expect(a.errors.filter((e) => e.includes('the browser refused the worker'))).toHaveLength(2)
  })

  it('tabs that replaced their worker, then closed or released while the next one is dead, leave no timer behind', async () => {
    const { a, b } = await twoTabsOpen()
    kill()
    await until(() => live().length === 1, 'a new worker opens a socket')
    live()[0].accept()
    await settle()
    kill()
    // Mid-watch: silent for two seconds, not yet pinged.
    await settle(2_000)
    a.manager.dispose()
    b.connection.closeForApp()
    b.manager.dispose()
    tabs.length = 0
    worker.stop()
    // The dead worker's own timers never run; the tabs must have none armed.
    await settle(120_000)
    expect(worker.started).toBe(2)
    expect(vi.getTimerCount()).toBe(0)
  })
})
