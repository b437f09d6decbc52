/**
 * `shareAcrossTabs: true | { ... }`: the tab code is a dynamic import, loaded on first use, and
 * `acquire()` answers at once with a stand-in (LazyTabConnection) that opens no socket, keeps
 * every call in order and hands it, with its listeners, to the tab connection once loaded.
 * Simulated tabs of one profile under fake timers; FakeWebSocket counts the sockets.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ConnectionManager, createManualEnvironment, OutboxFullError } from '../../src/core'
import { Connection } from '../../src/core/connection'
import { LazyTabConnection } from '../../src/core/tabs/lazy'
import { TabConnection } from '../../src/core/tabs/tabConnection'
import type { ConnectionOptions, ConnectionState } from '../../src/core/types'
import { FakeWebSocket } from '../core/fakeSocket'
import { acceptSocket, Browser, settle, URL } from './harness'

let browser: Browser
beforeEach(() => {
  vi.useFakeTimers()
  FakeWebSocket.reset()
  browser = new Browser({ shareAcrossTabs: true })
})
afterEach(() => {
  for (const tab of browser.tabs) if (!tab.env.tab.crashed) tab.manager.dispose()
  vi.useRealTimers()
})

/** Lets the tab code's import finish, then the tabs elect. */
async function load(): Promise<void> {
  await vi.dynamicImportSettled()
  await settle()
}

describe('while the tab code loads', () => {
  it('acquire answers at once: no socket, role follower, connecting; once loaded, one socket for every tab', async () => {
    const tabs = [browser.open(), browser.open(), browser.open()]
    for (const t of tabs) {
      expect(t.connection).toBeInstanceOf(LazyTabConnection)
      expect(t.connection.state).toMatchObject({ role: 'follower', status: 'connecting', readyState: 0, queued: 0, uncertain: 0 })
    }
    expect(FakeWebSocket.instances).toHaveLength(0)
    await load()
    // One socket from the first moment: never one per tab, then handed over.
    expect(FakeWebSocket.instances).toHaveLength(1)
    acceptSocket()
    await settle()
    expect(FakeWebSocket.instances).toHaveLength(1)
    expect(tabs.map((t) => t.connection.state.role).sort()).toEqual(['follower', 'follower', 'leader'])
    for (const t of tabs) expect(t.connection.state.status).toBe('open')
    for (const t of tabs) expect(t.opens).toBe(1)
  })

  it('sends and frames made before the load are kept in order and handed to the tab connection', async () => {
    const a = browser.open()
    const b = browser.open()
    const frames: boolean[] = []
    expect(a.connection.send('a1')).toBe('queued')
    expect(b.connection.send({ from: 'b', n: 1 })).toBe('queued')
    expect(a.connection.sendFrame('a frame', (written) => frames.push(written))).toBe('queued')
    expect(a.connection.send({ from: 'a', n: 2 })).toBe('queued')
    expect(b.connection.send('b2')).toBe('queued')
    expect(a.connection.state.queued).toBe(2)
    expect(b.connection.state.queued).toBe(2)
    expect(frames).toEqual([])
    await load()
    // No socket was open when the frame was handed over: the tab connection says it was not written.
    expect(frames).toEqual([false])
    const socket = acceptSocket()
    await settle()
    const sent = socket.sent.map(String)
    expect(sent).toHaveLength(4)
    expect(sent.filter((m) => m.includes('a'))).toEqual(['a1', '{"from":"a","n":2}'])
    expect(sent.filter((m) => m.includes('b'))).toEqual(['{"from":"b","n":1}', 'b2'])
    expect(a.connection.state.queued).toBe(0)
    expect(b.connection.state.queued).toBe(0)
  })

  it('calls made before, during and after the load keep their order: sends across the boundary, close/open/reconnect', async () => {
    const a = browser.open()
    a.connection.send('1')
    a.connection.close()
    a.connection.send('2')
    a.connection.open()
    a.connection.reconnect()
    a.connection.send('3')
    expect(a.connection.state).toMatchObject({ status: 'connecting', queued: 3 })
    // The chunk has loaded, the tab has not been elected yet: these go to the loaded connection directly.
    await vi.dynamicImportSettled()
    expect(a.connection).toBeInstanceOf(LazyTabConnection)
    a.connection.send('4')
    const b = browser.open()
    b.connection.send('b1')
    await settle()
    a.connection.send('5')
    b.connection.send('b2')
    // One socket, never closed: the close before the load was undone by the open after it.
    expect(FakeWebSocket.instances).toHaveLength(1)
    const socket = acceptSocket()
    await settle()
    const sent = socket.sent.map(String)
    expect(sent.filter((m) => !m.startsWith('b'))).toEqual(['1', '2', '3', '4', '5'])
    expect(sent.filter((m) => m.startsWith('b'))).toEqual(['b1', 'b2'])
    expect(a.connection.state).toMatchObject({ status: 'open', queued: 0, dropped: 0, uncertain: 0 })
  })

  it('if the chunk does not load, the tab keeps a socket of its own (solo), makes every kept call in order and says why', async () => {
    const env = createManualEnvironment({}, browser.profile)
    const connection = new LazyTabConnection<unknown, unknown>(URL, { WebSocket: FakeWebSocket, heartbeat: false, environment: env }, {}, () => Promise.reject(new Error('Failed to fetch dynamically imported module')))
    const errors: string[] = []
    connection.on('error', (e) => errors.push(e.message))
    connection.open()
    connection.send('1')
    connection.send('2')
    await settle()
    expect(errors).toHaveLength(1)
    expect(errors[0]).toMatch(/tab-sharing code did not load \(Failed to fetch dynamically imported module\); this tab keeps a socket of its own: .*tabSharing\(\)/)
    const socket = acceptSocket()
    expect(socket.sent.map(String)).toEqual(['1', '2'])
    expect(connection.state).toMatchObject({ role: 'solo', status: 'open', queued: 0 })
    connection.dispose()
  })

  it('listeners given before the load hear the loaded connection; a remover given then removes it there', async () => {
    const a = browser.open()
    const states: string[] = []
    const kept: unknown[] = []
    const removed: unknown[] = []
    a.connection.on('state', (s: ConnectionState) => states.push(`${s.role} ${s.status}`))
    a.connection.on('message', (m) => kept.push(m))
    const remove = a.connection.on('message', (m) => removed.push(m))
    await load()
    acceptSocket().receive('one')
    remove()
    FakeWebSocket.last.receive('two')
    expect(kept).toEqual(['one', 'two'])
    expect(removed).toEqual(['one'])
    expect(states.at(-1)).toBe('leader open')
    // A listener given after the load goes straight to the loaded connection.
    const later: unknown[] = []
    a.connection.on('message', (m) => later.push(m))
    FakeWebSocket.last.receive('three')
    expect(later).toEqual(['three'])
  })

  it('a volatile send is dropped and counted; one that cannot be encoded throws and keeps nothing', async () => {
    const a = browser.open()
    expect(a.connection.send('cursor', { volatile: true })).toBe('dropped')
    expect(a.connection.state.dropped).toBe(1)
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    expect(() => a.connection.send(cyclic)).toThrow(TypeError)
    expect(() => a.connection.sendFrame(cyclic)).toThrow(TypeError)
    expect(a.connection.state.queued).toBe(0)
    await load()
    acceptSocket()
    await settle()
    expect(FakeWebSocket.last.sent).toEqual([])
    expect(a.connection.state.dropped).toBe(1)
  })

  it('close before the load: no socket is opened and the tab shows closed; open() again opens one', async () => {
    const a = browser.open()
    a.connection.close(4000, 'bye')
    expect(a.connection.state).toMatchObject({ status: 'closed', readyState: 3, lastClose: { code: 4000, reason: 'bye', wasClean: true } })
    await load()
    await settle(5_000)
    expect(FakeWebSocket.instances).toHaveLength(0)
    expect(a.connection.state.status).toBe('closed')
    a.connection.open()
    await settle()
    expect(FakeWebSocket.instances).toHaveLength(1)
  })

  it('disposed before the load (the last consumer left): nothing is made, no lock is held; what was sent is counted dropped, frames are told not written', async () => {
    const a = browser.open()
    const frames: boolean[] = []
    a.connection.send('never')
    a.connection.sendFrame('never either', (written) => frames.push(written))
    a.release()
    expect(a.manager.connections.size).toBe(0)
    expect(frames).toEqual([false])
    expect(a.connection.state).toMatchObject({ status: 'closed', queued: 0, dropped: 1 })
    expect(a.errors.some((e) => e.includes('1 message(s)'))).toBe(true)
    await load()
    await settle(5_000)
    expect(FakeWebSocket.instances).toHaveLength(0)
    // The disposed tab never joined: the next tab leads at once.
    const b = browser.open({}, URL)
    await load()
    acceptSocket()
    await settle()
    expect(b.connection.state.role).toBe('leader')
  })

  it('a send the queue refuses once loaded (overflow: error) is reported, not thrown at the sender later', async () => {
    const a = browser.open({ queue: { max: 1, overflow: 'error' } })
    // A follower's sends wait for a leader: the second one overflows when the calls are made again.
    const b = browser.open({ queue: { max: 1, overflow: 'error' } })
    await load()
    acceptSocket()
    await settle()
    expect(browser.leader()).toBe(a)
    const c = browser.open({ queue: { max: 1, overflow: 'error' } })
    expect(c.connection.send('1')).toBe('queued')
    expect(c.connection.send('2')).toBe('queued')
    await vi.dynamicImportSettled()
    expect(c.errors.some((e) => e.includes('dropped') && e.includes(new OutboxFullError(1, 0).message.slice(0, 30)))).toBe(true)
    await settle()
    expect(b.connection.state.status).toBe('open')
  })

  it('the manager hands the same stand-in to a second consumer, and the loaded connection to a later one', async () => {
    const a = browser.open()
    expect(a.manager.acquire(URL)).toBe(a.connection)
    await load()
    expect(a.manager.acquire(URL)).toBe(a.connection)
    expect(a.manager.refCount(a.connection)).toBe(3)
  })

  it('LazyTabConnection overrides every public method of Connection (none falls through to an unused socket)', () => {
    const own = (proto: object) => Object.getOwnPropertyNames(proto).filter((name) => name !== 'constructor')
    expect(own(Connection.prototype).filter((name) => !Object.hasOwn(LazyTabConnection.prototype, name))).toEqual([])
  })
})

describe('the forms of shareAcrossTabs', () => {
  const make = (shareAcrossTabs: ConnectionOptions['shareAcrossTabs'], environment: ConnectionOptions['environment'] = createManualEnvironment({}, browser.profile)) =>
    new ConnectionManager({ WebSocket: FakeWebSocket, heartbeat: false, idleTimeout: 0, environment, shareAcrossTabs })

  it('where the tab cannot share (no Web Locks), true is a plain connection at once: role solo, nothing to load', () => {
    const manager = make(true, { ...createManualEnvironment({}, browser.profile), locks: undefined })
    const connection = manager.acquire(URL)
    expect(connection.constructor).toBe(Connection)
    expect(connection.state.role).toBe('solo')
    expect(FakeWebSocket.instances).toHaveLength(1)
    manager.dispose()
  })

  it('in Node (no navigator.locks) without an injected environment, true is a plain connection at once', () => {
    expect((globalThis as { navigator?: { locks?: unknown } }).navigator?.locks).toBeUndefined()
    const manager = make(true, {})
    expect(manager.acquire(URL).constructor).toBe(Connection)
    manager.dispose()
  })

  it('false (and no option) is a plain connection; tabSharing() is the tab connection at once', async () => {
    const { tabSharing } = await import('../../src/core')
    expect(make(false).acquire(URL).constructor).toBe(Connection)
    expect(make(undefined).acquire(URL).constructor).toBe(Connection)
    expect(make(tabSharing()).acquire(URL)).toBeInstanceOf(TabConnection)
  })

  it('{ name } keeps a group of its own; { via: "locks" } shares like true', async () => {
    const a = make({ via: 'locks' })
    const b = make(true)
    const named = make({ name: 'admin' })
    for (const m of [a, b, named]) m.acquire(URL)
    await load()
    expect(FakeWebSocket.instances).toHaveLength(2)
    for (const m of [a, b, named]) m.dispose()
  })

  it("{ via: 'worker' } without a worker says how to give one (development) and keeps a socket per tab", () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    try {
      const connection = make({ via: 'worker' }).acquire(URL)
      expect(connection.constructor).toBe(Connection)
      expect(warn).toHaveBeenCalledWith(expect.stringContaining("{ via: 'worker' } needs `worker`"))
    } finally {
      warn.mockRestore()
    }
  })
})
