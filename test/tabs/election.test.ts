/**
 * One socket across tabs, under fake timers: several simulated tabs of one profile (in-memory
 * Web Locks and BroadcastChannel), FakeWebSocket counting the sockets.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { connectionKey, ConnectionManager, createManualEnvironment, tabSharing } from '../../src/core'
import { groupName } from '../../src/core/tabs/wire'
import { Connection } from '../../src/core/connection'
import { TabConnection } from '../../src/core/tabs/tabConnection'
import { FakeWebSocket } from '../core/fakeSocket'
import { acceptSocket, Browser, settle, URL } from './harness'

let browser: Browser
beforeEach(() => {
  vi.useFakeTimers()
  FakeWebSocket.reset()
  browser = new Browser()
})
afterEach(() => {
  for (const tab of browser.tabs) if (!tab.env.tab.crashed) tab.manager.dispose()
  vi.useRealTimers()
})

/** Three tabs, the socket open, `a` leading. */
async function threeTabs() {
  const a = browser.open()
  await settle()
  const b = browser.open()
  const c = browser.open()
  await settle()
  const socket = acceptSocket()
  await settle()
  expect(browser.leader()).toBe(a)
  return { a, b, c, socket }
}

describe('election and mirror', () => {
  it('three tabs hold one socket; one leads, the others mirror its state and see one open', async () => {
    const { a, b, c } = await threeTabs()
    expect(FakeWebSocket.instances).toHaveLength(1)
    expect([a, b, c].map((t) => t.connection.state.role)).toEqual(['leader', 'follower', 'follower'])
    for (const t of [a, b, c]) expect(t.connection.state).toMatchObject({ status: 'open', readyState: 1, uncertain: 0 })
    for (const t of [a, b, c]) expect(t.opens).toBe(1)
  })

  it('followers show the leader state: reconnecting with its attempt and retry time, then open again', async () => {
    const { a, b, socket } = await threeTabs()
    socket.serverClose(1012, 'restart')
    await settle()
    expect(b.connection.state).toMatchObject({ status: 'reconnecting', attempt: 1, lastClose: { code: 1012 } })
    expect(b.connection.state.nextRetryAt).toBe(a.connection.state.nextRetryAt)
    expect(b.closes).toEqual([1012])
    await settle(1_000)
    acceptSocket()
    await settle()
    expect(b.connection.state.status).toBe('open')
    expect(b.opens).toBe(2)
  })

  it('a tab that joins later gets a snapshot: open at once, with one open event', async () => {
    const { socket } = await threeTabs()
    socket.receive('x')
    const d = browser.open()
    expect(d.connection.state.status).toBe('connecting')
    await settle()
    expect(d.connection.state).toMatchObject({ status: 'open', role: 'follower', received: 1 })
    expect(d.opens).toBe(1)
    expect(FakeWebSocket.instances).toHaveLength(1)
  })

  it('separate groups: another URL or another name gets its own socket', async () => {
    await threeTabs()
    browser.open({}, 'ws://127.0.0.1:1/other')
    const named = new ConnectionManager({ WebSocket: FakeWebSocket, heartbeat: false, environment: createManualEnvironment({}, browser.profile), shareAcrossTabs: tabSharing({ name: 'admin' }) })
    named.acquire(URL)
    await settle()
    expect(FakeWebSocket.instances).toHaveLength(3)
    named.dispose()
  })

  it('close() before the election: the tab that then leads stays closed and opens no socket', async () => {
    const a = browser.open()
    a.connection.close(4000, 'bye')
    await settle(5_000)
    expect(a.connection.state).toMatchObject({ role: 'leader', status: 'closed' })
    expect(FakeWebSocket.instances).toHaveLength(0)
  })

  it('without Web Locks each tab keeps its own socket (role solo)', async () => {
    const managers = [0, 1].map(
      () => new ConnectionManager({ WebSocket: FakeWebSocket, heartbeat: false, environment: { ...createManualEnvironment({}, browser.profile), locks: undefined }, shareAcrossTabs: tabSharing() }),
    )
    const connections = managers.map((m) => m.acquire(URL))
    await settle()
    expect(FakeWebSocket.instances).toHaveLength(2)
    expect(connections.map((c) => c.state.role)).toEqual(['solo', 'solo'])
    for (const m of managers) m.dispose()
  })
})

describe('inbound and outbound', () => {
  it('every tab gets every inbound message once, in order; the leader decodes its own synchronously', async () => {
    const { a, b, c, socket } = await threeTabs()
    socket.receive('{"n":1}').receive('two').receive('{"n":3}')
    expect(a.messages).toEqual([{ n: 1 }, 'two', { n: 3 }])
    await settle()
    for (const t of [a, b, c]) expect(t.messages).toEqual([{ n: 1 }, 'two', { n: 3 }])
    expect(b.connection.state.received).toBe(3)
  })

  it('a send from any tab is written once; a follower shows it queued until the leader confirms', async () => {
    const { a, b, c, socket } = await threeTabs()
    expect(a.connection.send({ from: 'a' })).toBe('sent')
    expect(b.connection.send({ from: 'b' })).toBe('queued')
    expect(b.connection.state.queued).toBe(1)
    c.connection.send('from c')
    await settle()
    expect(socket.sent).toEqual(['{"from":"a"}', '{"from":"b"}', 'from c'])
    expect(b.connection.state.queued).toBe(0)
  })

  it('an unencodable message throws in the follower that sent it; nothing is posted', async () => {
    const { b, socket } = await threeTabs()
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    expect(() => b.connection.send(cyclic)).toThrow(TypeError)
    await settle()
    expect(socket.sent).toEqual([])
  })

  it('volatile sends from a follower go out while open and are dropped, counted, while not', async () => {
    const { b, socket } = await threeTabs()
    expect(b.connection.send('cursor', { volatile: true })).toBe('sent')
    await settle()
    expect(socket.sent).toEqual(['cursor'])
    socket.serverClose(1006)
    await settle()
    expect(b.connection.send('cursor', { volatile: true })).toBe('dropped')
    expect(b.connection.state.dropped).toBe(1)
  })

  it('close() in a follower closes the socket for every tab; open() in another reopens it', async () => {
    const { a, b, c, socket } = await threeTabs()
    b.connection.close(1000, 'bye')
    await settle()
    expect(socket.closedWith).toEqual({ code: 1000, reason: 'bye' })
    socket.finishClose()
    await settle()
    for (const t of [a, b, c]) expect(t.connection.state.status).toBe('closed')
    c.connection.open()
    await settle()
    acceptSocket()
    await settle()
    for (const t of [a, b, c]) expect(t.connection.state.status).toBe('open')
  })
})

describe('hand-over', () => {
  it('the leader leaves on pagehide: the next tab opens the socket; a send the leader never processed is sent once, by the new leader', async () => {
    const { a, b, c, socket } = await threeTabs()
    b.connection.send('in flight')
    a.env.emit({ type: 'pagehide', persisted: false })
    expect(socket.readyState).toBeGreaterThan(1)
    await settle()
    const leader = browser.leader()
    expect([b, c]).toContain(leader)
    expect(FakeWebSocket.instances).toHaveLength(2)
    const second = acceptSocket()
    await settle()
    expect(socket.sent).toEqual([])
    expect(second.sent).toEqual(['in flight'])
    for (const t of [b, c]) expect(t.closes).toEqual([1001])
    for (const t of [b, c]) expect(t.connection.state.status).toBe('open')
    expect(b.connection.state.uncertain).toBe(0)
  })

  it('a crashed leader (no goodbye) is replaced as soon as the browser frees its lock', async () => {
    const { a, b, c, socket } = await threeTabs()
    c.connection.send('pending')
    a.env.tab.crash()
    socket.terminate()
    await settle()
    expect([b, c]).toContain(browser.leader())
    const second = acceptSocket()
    await settle()
    expect(second.sent).toEqual(['pending'])
    for (const t of [b, c]) expect(t.connection.state.status).toBe('open')
  })

  it('a frozen leader gives up the lock; when it resumes it follows', async () => {
    const { a, b, socket } = await threeTabs()
    a.env.emit({ type: 'freeze' })
    await settle()
    expect(socket.readyState).toBeGreaterThan(1)
    expect(a.connection.state.status).toBe('idle')
    acceptSocket()
    await settle()
    a.env.emit({ type: 'resume' })
    await settle()
    expect(a.connection.state).toMatchObject({ status: 'open', role: 'follower' })
    expect(FakeWebSocket.instances).toHaveLength(2)
    expect(b.connection.state.role === 'leader' || browser.tabs[2].connection.state.role === 'leader').toBe(true)
  })

  it('a hidden leader keeps leading, however long', async () => {
    const { a, b, socket } = await threeTabs()
    a.env.emit({ type: 'hidden' })
    await settle(60_000)
    expect(a.connection.state.role).toBe('leader')
    expect(FakeWebSocket.instances).toHaveLength(1)
    socket.receive('still here')
    await settle()
    expect(b.messages).toEqual(['still here'])
  })

  it('the last consumer of the leader tab leaving hands the socket over', async () => {
    const { a, b, c, socket } = await threeTabs()
    a.release()
    await settle()
    expect(socket.readyState).toBeGreaterThan(1)
    expect([b, c]).toContain(browser.leader())
    acceptSocket()
    await settle()
    for (const t of [b, c]) expect(t.connection.state.status).toBe('open')
    expect(a.connection.state.status).toBe('closed')
  })

  it('a follower that leaves stops nothing', async () => {
    const { a, b, socket } = await threeTabs()
    b.release()
    await settle()
    expect(socket.readyState).toBe(1)
    expect(a.connection.state.role).toBe('leader')
  })
})

describe('a leader that stops running (debugger pause, a freeze without the event)', () => {
  it('a visible follower pings it after 3 silent beats, steals without an answer; the old leader steps down when it resumes', async () => {
    const { a, b, c, socket } = await threeTabs()
    b.env.emit({ type: 'hidden' })
    a.env.tab.pause()
    await settle(3_000)
    expect(FakeWebSocket.instances).toHaveLength(1)
    await settle(3_000)
    expect(c.connection.state.role).toBe('leader')
    expect(b.connection.state.role).toBe('follower')
    const second = acceptSocket()
    await settle()
    expect(c.connection.state.status).toBe('open')
    second.receive('new socket')
    a.env.tab.resume()
    await settle()
    expect(a.connection.state.role).toBe('follower')
    expect(socket.readyState).toBeGreaterThan(1)
    for (const t of [a, b, c]) expect(t.messages).toEqual(['new socket'])
    expect(FakeWebSocket.instances).toHaveLength(2)
  })

  it('the system clock stepping back an hour does not hide a stopped leader: a visible follower still steals within seconds', async () => {
    const { a, b, c } = await threeTabs()
    a.env.tab.pause()
    await settle(1_500)
    vi.setSystemTime(Date.now() - 3_600_000)
    await settle(6_000)
    expect([b, c].some((tab) => tab.connection.state.role === 'leader')).toBe(true)
    a.env.tab.resume()
    await settle()
  })

  it('two followers that steal at once end with one leader that every tab follows', async () => {
    const { a, b, c } = await threeTabs()
    a.env.tab.pause()
    // Same jitter in both tabs (random() is 0.5 everywhere): both steal in the same tick.
    await settle(6_000)
    expect([b, c].filter((t) => t.connection.state.role === 'leader')).toHaveLength(1)
    // Both stole and opened a socket; every deposed term closed its own, one remains.
    expect(FakeWebSocket.instances.length).toBeGreaterThanOrEqual(3)
    expect(Browser.openSockets().filter((s) => s !== FakeWebSocket.instances[0])).toHaveLength(1)
    acceptSocket().receive('after')
    await settle()
    for (const t of [b, c]) expect(t.messages).toEqual(['after'])
    for (const t of [b, c]) expect(t.connection.state.status).toBe('open')
  })

  it('hidden followers never steal; one that becomes visible does', async () => {
    const { a, b, c } = await threeTabs()
    b.env.emit({ type: 'hidden' })
    c.env.emit({ type: 'hidden' })
    a.env.tab.pause()
    await settle(60_000)
    expect(FakeWebSocket.instances).toHaveLength(1)
    b.env.emit({ type: 'visible' })
    await settle(10_000)
    expect(b.connection.state.role).toBe('leader')
    expect(FakeWebSocket.instances).toHaveLength(2)
  })

  it('a slow leader that answers the ping keeps the lead', async () => {
    const { a, c } = await threeTabs()
    // Beats stop (throttled timers), messages still flow: the ping is answered.
    const beats = vi.spyOn(a.env, 'setTimeout').mockImplementation(() => 0)
    await settle(30_000)
    beats.mockRestore()
    expect(a.connection.state.role).toBe('leader')
    expect(c.connection.state.role).toBe('follower')
    expect(FakeWebSocket.instances).toHaveLength(1)
  })

  it('sends the stopped leader never confirmed count as uncertain and are not sent again', async () => {
    const { a, b, c, socket } = await threeTabs()
    b.env.emit({ type: 'hidden' })
    a.env.tab.pause()
    c.connection.send('maybe')
    await settle(6_000)
    expect(c.connection.state.role).toBe('leader')
    const second = acceptSocket()
    await settle()
    expect(second.sent).toEqual([])
    expect(c.connection.state.uncertain).toBe(1)
    expect(c.errors.some((m) => m.includes('may or may not'))).toBe(true)
    // When it resumes, the old leader writes what it had received before it noticed: once.
    a.env.tab.resume()
    await settle()
    expect(socket.sent).toEqual(['maybe'])
  })
})

describe('ownership of sends across a hand-over', () => {
  it('a send the leader accepted into its outbox, then lost with it, counts as uncertain', async () => {
    const { a, b, socket } = await threeTabs()
    socket.serverClose(1006)
    await settle()
    b.connection.send('held by the leader')
    await settle()
    expect(b.connection.state.queued).toBe(1) // the leader's outbox, mirrored
    a.env.tab.crash()
    await settle()
    expect(b.connection.state.uncertain).toBe(1)
  })

  it('accepted sends flushed by the leader are settled: nothing uncertain when it leaves later', async () => {
    const { a, b, socket } = await threeTabs()
    socket.serverClose(1006)
    await settle()
    b.connection.send('queued, then written')
    await settle(1_000)
    const second = acceptSocket()
    await settle()
    expect(second.sent).toEqual(['queued, then written'])
    a.env.emit({ type: 'pagehide', persisted: false })
    await settle()
    expect(b.connection.state.uncertain).toBe(0)
  })
})

describe('sendFrame across tabs (written once on the socket in hand, or reported unwritten)', () => {
  it('a follower frame is written by the leader and settled written', async () => {
    const { b, socket } = await threeTabs()
    const outcomes: boolean[] = []
    expect(b.connection.sendFrame('frame', (written) => outcomes.push(written))).toBe('queued')
    await settle()
    expect(socket.sent).toEqual(['frame'])
    expect(outcomes).toEqual([true])
  })

  it('without an open socket it is unwritten at once; a leader that leaves first leaves it unwritten', async () => {
    const { a, b, socket } = await threeTabs()
    const outcomes: boolean[] = []
    b.connection.sendFrame('in flight', (written) => outcomes.push(written))
    a.env.emit({ type: 'pagehide', persisted: false })
    await settle()
    expect(outcomes).toEqual([false])
    expect(socket.sent).toEqual([])
    expect(b.connection.sendFrame('no socket', (written) => outcomes.push(written))).toBe('dropped')
    expect(outcomes).toEqual([false, false])
  })

  it('given to a leader that stopped and was robbed, it counts as written: it is never sent twice', async () => {
    const { a, b, c } = await threeTabs()
    b.env.emit({ type: 'hidden' })
    a.env.tab.pause()
    const outcomes: boolean[] = []
    c.connection.sendFrame('maybe', (written) => outcomes.push(written))
    await settle(6_000)
    expect(c.connection.state.role).toBe('leader')
    expect(outcomes).toEqual([true])
  })

  it('TabConnection overrides every public method of Connection (none falls through to an unused socket)', () => {
    const own = (proto: object) => Object.getOwnPropertyNames(proto).filter((name) => name !== 'constructor')
    expect(own(Connection.prototype).filter((name) => !Object.hasOwn(TabConnection.prototype, name))).toEqual([])
  })
})

describe('epochs', () => {
  it('frames of an older leadership are dropped', async () => {
    const { b } = await threeTabs()
    const epoch = b.connection.state.received // just to use b before injecting
    const intruder = new (createManualEnvironment({}, browser.profile).BroadcastChannel!)(groupName(connectionKey(URL)))
    intruder.postMessage({ t: 'frames', e: 1, from: 'old', data: ['stale'] })
    await settle()
    expect(b.messages).toEqual([])
    expect(epoch).toBe(0)
    intruder.close()
  })


  it('a tab that missed a new leader\'s announcement asks it for the state and opens on its word', async () => {
    const { b } = await threeTabs()
    const heard: Array<{ t: string }> = []
    const newLeader = new (createManualEnvironment({}, browser.profile).BroadcastChannel!)(groupName(connectionKey(URL)))
    newLeader.onmessage = ({ data }) => heard.push(data as { t: string })
    const open = { ...b.connection.state, protocol: '', opened: true }
    newLeader.postMessage({ t: 'state', e: Number.MAX_SAFE_INTEGER - 1, from: 'new', state: open })
    const log: string[] = []
    b.connection.on('state', (st) => log.push(`${st.role} ${st.status}`))
    b.connection.on('open', () => log.push('open'))
    b.connection.on('close', () => log.push('close'))
    await settle()
    // The old leader's socket is not its socket any more; the newcomer's says open: b opens on it.
    expect(log.slice(0, log.indexOf('open') + 1).filter((e, i, all) => e !== all[i - 1])).toEqual(['close', 'follower connecting', 'follower open', 'open'])
    expect(heard.some((m) => m.t === 'hello')).toBe(true)
    // (The real leader, outranked, stepped down and the lock moved on: that is the intruder's doing.)
    newLeader.close()
  })
})

describe('auth', () => {
  it('a token changed in a follower reaches the leader, which reconnects with it', async () => {
    let leaderToken = 'leader-token'
    let followerToken = 'follower-token'
    const a = browser.open({ token: () => leaderToken })
    await settle()
    const b = browser.open({ token: () => followerToken })
    await settle()
    acceptSocket()
    await settle()
    expect(FakeWebSocket.instances[0].protocols).toEqual(['vue-realtime.token.leader-token'])
    followerToken = 'fresh'
    b.connection.reconnect()
    await settle()
    expect(FakeWebSocket.instances).toHaveLength(2)
    expect(FakeWebSocket.last.protocols).toEqual(['vue-realtime.token.fresh'])
    // The leader's own token changing later wins again.
    leaderToken = 'leader-2'
    a.connection.reconnect()
    await settle()
    expect(FakeWebSocket.last.protocols).toEqual(['vue-realtime.token.leader-2'])
  })
})
