/**
 * `via: 'worker'` in Node: a "SharedWorker" made of MessageChannels and serveTabs() on a fake
 * worker scope, a real `ws` server on loopback. The worker holds the one socket; every tab follows.
 */
import { MessageChannel } from 'node:worker_threads'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ConnectionManager, createManualEnvironment, MemoryProfile, serveTabs, tabSharing, type MessagePortLike, type SharedWorkerScopeLike } from '../../src/core'
import { waitFor } from '../support/wait'
import { NodeWebSocket, startServer, type TestServer } from '../vue/helpers'

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
