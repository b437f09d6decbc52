/**
 * Sends and counters across hand-overs, each a sequence that the model-based test
 * (test/model/tabs.model.test.ts) found to lose a message, write one twice or drop a count,
 * reduced to its steps (or, for the hub, to its cause). Fake timers; the tabs of one in-memory profile (see harness.ts).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createManualEnvironment } from '../../src/core'
import { Hub } from '../../src/core/tabs/hub'
import type { LeaderMessage } from '../../src/core/tabs/wire'
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

/** How many times `payload` was written, on every socket of every tab. */
const writes = (payload: string): number => FakeWebSocket.instances.reduce((n, socket) => n + socket.sent.filter((data) => data === payload).length, 0)

/** Tabs `a` (leading, its socket not accepted yet) and `b` (following). */
async function leaderConnecting() {
  const a = browser.open()
  await settle()
  const b = browser.open()
  await settle()
  expect(browser.leader()).toBe(a)
  return { a, b }
}

/** A third tab `c` sends, then freezes before the leader's answer; the leader writes it once its socket opens. */
async function sentThenFroze() {
  const { a, b } = await leaderConnecting()
  const c = browser.open()
  await settle()
  c.connection.send('answer missed')
  c.env.emit({ type: 'freeze' })
  await settle()
  acceptSocket()
  await settle()
  return { a, b, c }
}

describe("the leader's own sends", () => {
  it('queued in its outbox when it freezes: kept by the tab, sent once by the next leader when it resumes', async () => {
    const { a, b } = await leaderConnecting()
    expect(a.connection.send('mine')).toBe('queued')
    a.env.emit({ type: 'freeze' })
    await settle()
    expect(browser.leader()).toBe(b)
    acceptSocket()
    await settle()
    expect(writes('mine')).toBe(0)
    expect(a.connection.state.queued).toBe(1)
    a.env.emit({ type: 'resume' })
    await settle()
    expect(writes('mine')).toBe(1)
    expect(a.connection.state).toMatchObject({ role: 'follower', queued: 0, dropped: 0, uncertain: 0 })
  })

  it('queued when another tab steals the lead from it (paused): sent once, by the thief, after it resumes', async () => {
    const { a, b } = await leaderConnecting()
    a.connection.send('before the pause')
    a.env.tab.pause()
    await settle(10_000)
    expect(b.connection.state.role).toBe('leader')
    FakeWebSocket.last.accept()
    a.env.tab.resume()
    await settle()
    expect(a.connection.state.role).toBe('follower')
    await settle(100)
    expect(writes('before the pause')).toBe(1)
    expect(a.connection.state).toMatchObject({ queued: 0, dropped: 0, uncertain: 0 })
  })
})

describe('a lead taken from a stopped leader', () => {
  it('numbers its term above the one it ended, though the thief never heard of it and the clock was set back: what the stopped leader relays when it runs again reaches no tab after the frames of the new term', async () => {
    const a = browser.open()
    const b = browser.open()
    // b misses a's term: it freezes before it hears a lead.
    b.env.emit({ type: 'freeze' })
    await settle()
    expect(browser.leader()).toBe(a)
    const first = acceptSocket()
    await settle()
    // a stops in the debugger; a frame reaches its socket meanwhile (its page reads it later).
    a.env.tab.pause()
    b.env.emit({ type: 'resume' })
    await settle()
    a.env.tab.run(() => first.receive('1'))
    // The clock is set back an hour: a term b numbers by the clock alone is below a's.
    vi.setSystemTime(Date.now() - 3_600_000)
    await settle(10_000)
    expect(b.connection.state.role).toBe('leader')
    const second = acceptSocket()
    await settle()
    second.receive('2')
    await settle()
    // a runs again: it reads frame 1 and relays it before it learns it was robbed.
    a.env.tab.resume()
    await settle(100)
    second.receive('3')
    await settle()
    expect(b.connection.state.role).toBe('leader')
    expect(a.connection.state.role).toBe('follower')
    expect(b.messages).toEqual([2, 3])
    expect(a.messages).toEqual([1, 3])
  })
})

describe("a follower's sends", () => {
  it('held in the outbox of a leader that leaves: handed back and sent once by the next one, not counted as uncertain', async () => {
    const { a, b } = await leaderConnecting()
    b.connection.send('held')
    await settle()
    expect(b.connection.state.queued).toBe(1) // the leader's outbox, mirrored
    a.release()
    await settle()
    expect(browser.leader()).toBe(b)
    acceptSocket()
    await settle()
    expect(writes('held')).toBe(1)
    expect(b.connection.state).toMatchObject({ queued: 0, dropped: 0, uncertain: 0 })
  })

  it('posted just before the tab froze, written by the leader meanwhile: never posted again after the leader changed', async () => {
    const { a, b, c } = await sentThenFroze()
    expect(writes('answer missed')).toBe(1)
    a.release()
    await settle()
    expect(browser.leader()).toBe(b)
    acceptSocket()
    c.env.emit({ type: 'resume' })
    await settle()
    expect(c.connection.state.role).toBe('follower')
    await settle(100)
    expect(writes('answer missed')).toBe(1)
    // Its answer was missed and its leader gone unheard: it may or may not have gone out.
    expect(c.connection.state.uncertain).toBe(1)
  })

  it('posted just before the tab froze: back under the same leader, the snapshot settles it (written once, nothing uncertain)', async () => {
    const { a, c } = await sentThenFroze()
    c.env.emit({ type: 'resume' })
    await settle()
    expect(browser.leader()).toBe(a)
    expect(writes('answer missed')).toBe(1)
    expect(c.connection.state).toMatchObject({ status: 'open', queued: 0, uncertain: 0 })
    a.release()
    await settle()
    acceptSocket()
    await settle()
    expect(writes('answer missed')).toBe(1)
    expect(c.connection.state.uncertain).toBe(0)
  })
})

describe("a follower's full queue (drop-oldest)", () => {
  it('makes room by forgetting a send the leader has as uncertain, not dropped: the leader may write it (here it does)', async () => {
    browser = new Browser({ queue: { max: 2 } })
    const { a, b } = await leaderConnecting()
    acceptSocket()
    await settle()
    // The leader stops answering: what b posts stays unconfirmed.
    a.env.tab.pause()
    for (const m of ['m1', 'm2', 'm3']) expect(b.connection.send(m)).toBe('queued')
    expect(b.connection.state).toMatchObject({ dropped: 0, uncertain: 1 })
    a.env.tab.resume()
    await settle()
    expect(['m1', 'm2', 'm3'].map(writes)).toEqual([1, 1, 1])
    expect(b.connection.state).toMatchObject({ queued: 0, dropped: 0, uncertain: 1 })
  })
})

describe("a follower's send dropped in the leader's full outbox", () => {
  it('is named to its tab (gone), before the answer to the send that took its room', async () => {
    // Found by the tabs model (locks, queue.max 2; seed 1648185423, path 15817): the leader was
    // paused while m2 and m3 (ttl 2 s) waited for it, so their ttl ran out later in its outbox
    // than on the tab, and the tab guessed wrong which of its sends the outbox dropped (see
    // test/tabs/ownedSends.test.ts). The hub now says which.
    const env = createManualEnvironment({ random: () => 0.5 }, browser.profile)
    const posted: LeaderMessage[] = []
    const hub = new Hub({ url: URL, options: { WebSocket: FakeWebSocket, heartbeat: false, queue: { max: 2 } }, env, epoch: 7, id: 'leader', post: (m) => posted.push(m), token: () => null, visible: () => true })
    hub.start(true, false)
    await settle()
    hub.receive({ t: 'send', e: 7, to: 'leader', from: 'tab', id: 1, data: 'm1' })
    // Taken 1.5 s late (the leader's page was paused): their 2 s run from now here.
    await settle(1_500)
    hub.receive({ t: 'send', e: 7, to: 'leader', from: 'tab', id: 2, data: 'm2', ttl: 1_999 })
    hub.receive({ t: 'send', e: 7, to: 'leader', from: 'tab', id: 3, data: 'm3', ttl: 1_999 })
    const told = posted.filter((m) => m.t === 'ok' || m.t === 'gone').map((m) => (m.t === 'ok' ? `ok ${m.id}` : `gone ${JSON.stringify(m.ids)} dropped ${m.dropped}`))
    // Nothing had run out here: drop-oldest took m1; the term's count comes with it.
    expect(told).toEqual(['ok 1', 'ok 2', 'gone {"tab":[1]} dropped 1', 'ok 3'])
    hub.dispose()
  })
})

describe('a socket the user closed', () => {
  it('stays closed across a hand-over: the next leader starts its term closed (not idle) and announces it before anything else', async () => {
    const { a, b } = await leaderConnecting()
    acceptSocket()
    await settle()
    b.connection.close(4000, 'done')
    await settle(3_000)
    expect(b.connection.state.status).toBe('closed')
    const kinds: string[] = []
    b.connection.on('close', () => kinds.push('close'))
    a.release()
    await settle()
    expect(b.connection.state).toMatchObject({ role: 'leader', status: 'closed', lastClose: { code: 4000, reason: 'done' } })
    expect(kinds).toEqual([])
    expect(Browser.openSockets()).toHaveLength(0)
    b.connection.open()
    await settle()
    acceptSocket()
    await settle()
    expect(b.connection.state.status).toBe('open')
  })
})

describe("a tab's open(), close() and reconnect() across a hand-over", () => {
  /** Tabs `a` (leading, its socket open), `b` and `c` (following). */
  async function threeTabsOpen() {
    const { a, b } = await leaderConnecting()
    const c = browser.open()
    await settle()
    acceptSocket()
    await settle()
    return { a, b, c }
  }

  it('close() posted to a leader that hands over before it reads it: the next leader carries it out', async () => {
    const { a, b, c } = await threeTabsOpen()
    c.connection.close(4000, 'done')
    a.release()
    await settle(3_000)
    expect(browser.leader()).toBe(b)
    expect(Browser.openSockets()).toHaveLength(0)
    for (const tab of [b, c]) expect(tab.connection.state.status).toBe('closed')
    await settle(30_000)
    expect(FakeWebSocket.instances).toHaveLength(2)
  })

  it('close() made while no tab led, then open() in another tab: the later open() stands', async () => {
    const { a, b, c } = await threeTabsOpen()
    a.release()
    await vi.advanceTimersByTimeAsync(1)
    // b leads already; c has heard a's bye, not yet b's announcement.
    expect(b.connection.state.role).toBe('leader')
    expect(c.connection.state.status).toBe('connecting')
    c.connection.close(4000, 'earlier')
    vi.setSystemTime(Date.now() + 1)
    b.connection.open()
    await settle()
    acceptSocket()
    await settle(3_000)
    expect(Browser.openSockets()).toHaveLength(1)
    for (const tab of [b, c]) expect(tab.connection.state.status).toBe('open')
  })

  it('the only tab, frozen after its user closed the socket, comes back to it closed', async () => {
    const a = browser.open()
    await settle()
    acceptSocket()
    await settle()
    a.connection.close(4000, 'done')
    await settle(3_000)
    a.env.emit({ type: 'freeze' })
    await settle()
    a.env.emit({ type: 'resume' })
    await settle(3_000)
    expect(a.connection.state).toMatchObject({ role: 'leader', status: 'closed', lastClose: { code: 4000, reason: 'done' } })
    expect(FakeWebSocket.instances).toHaveLength(1)
  })

  it('a tab that comes to lead with an older view of the socket (it was paused) does not undo a close it never heard of', async () => {
    const a = browser.open()
    const b = browser.open()
    await settle(1)
    b.env.tab.pause()
    const c = browser.open()
    vi.setSystemTime(Date.now() + 1)
    c.connection.close()
    a.env.tab.crash()
    await settle(5_000)
    expect(c.connection.state).toMatchObject({ role: 'leader', status: 'closed' })
    // b's page runs again: its lock request, granted while it was paused, makes it lead for a while.
    b.env.tab.resume()
    await settle(3_000)
    for (const tab of [b, c]) expect(tab.connection.state.status).toBe('closed')
    expect(FakeWebSocket.instances.filter((s) => s.readyState < 2 && !s.terminated && !s.closedWith).filter((s) => s !== FakeWebSocket.instances[0])).toHaveLength(0)
  })

  it('a command carried out in a term the next leader never heard from is asserted to it by the tab that knows it', async () => {
    browser = new Browser({ heartbeat: false })
    const a = browser.open()
    browser.open().release()
    const c = browser.open()
    c.env.tab.pause()
    const d = browser.open()
    a.env.emit({ type: 'freeze' })
    await settle(1)
    // a, out of the group, closes; c (paused) opens later, when it runs again.
    a.connection.close()
    c.env.tab.run(() => {
      vi.setSystemTime(Date.now() + 1)
      c.connection.open()
    })
    await settle(5_000)
    c.env.emit({ type: 'freeze' })
    for (const socket of Browser.openSockets()) if (socket.readyState === 0) socket.accept()
    // c runs: it leads for a moment (a lock granted while it was paused) and opens, then freezes;
    // d leads again without having heard of c's open, and a, back, asserts its older close.
    c.env.tab.resume()
    await settle(100)
    for (const tab of [a, c]) tab.env.emit({ type: 'resume' })
    await settle(1_000)
    for (const socket of Browser.openSockets()) if (socket.readyState === 0) socket.accept()
    await settle(1_000)
    for (const tab of [a, c, d]) expect(tab.connection.state.status).toBe('open')
  })

  it("a tab that joins while the socket waits to retry does not cut the wait short; reconnect() does", async () => {
    const { a } = await leaderConnecting()
    FakeWebSocket.last.serverClose(1006)
    await settle()
    expect(a.connection.state.status).toBe('reconnecting')
    const sockets = FakeWebSocket.instances.length
    const c = browser.open()
    await settle()
    expect(c.connection.state).toMatchObject({ role: 'follower', status: 'reconnecting' })
    expect(FakeWebSocket.instances).toHaveLength(sockets)
    c.connection.reconnect()
    await settle()
    expect(FakeWebSocket.instances).toHaveLength(sockets + 1)
  })

  it('closeAll() in the leading tab keeps what its outbox held: written once when it opens again', async () => {
    const { a, b } = await leaderConnecting()
    expect(a.connection.send('kept')).toBe('queued')
    a.manager.closeAll()
    expect(a.connection.state).toMatchObject({ status: 'closed', queued: 1, dropped: 0 })
    await settle()
    expect(browser.leader()).toBe(b)
    acceptSocket()
    await settle()
    expect(writes('kept')).toBe(0)
    a.connection.open()
    await settle()
    expect(writes('kept')).toBe(1)
    expect(a.connection.state).toMatchObject({ role: 'follower', status: 'open', queued: 0, dropped: 0, uncertain: 0 })
  })

  it('a tab disposed with sends no leader has counts them as dropped', async () => {
    const { a } = await leaderConnecting()
    a.connection.send('never')
    const connection = a.connection
    a.release()
    expect(connection.state).toMatchObject({ queued: 0, dropped: 1 })
  })

  it("closeAll() (the app unmounts) in the leading tab closes the socket for that tab only: the others keep one", async () => {
    const { a, b } = await leaderConnecting()
    acceptSocket()
    await settle()
    a.manager.closeAll()
    expect(a.connection.state.status).toBe('closed')
    await settle()
    expect(browser.leader()).toBe(b)
    acceptSocket()
    await settle()
    expect(b.connection.state.status).toBe('open')
    a.connection.open()
    await settle()
    expect(a.connection.state).toMatchObject({ role: 'follower', status: 'open' })
  })
})

describe('counters', () => {
  it("a term this tab hears of first by its bye still starts from what the last term counted", async () => {
    const { a, b } = await leaderConnecting()
    expect(a.connection.send('not now', { volatile: true })).toBe('dropped')
    expect(a.connection.state.dropped).toBe(1)
    a.env.emit({ type: 'pagehide', persisted: true })
    await settle()
    expect(browser.leader()).toBe(b)
    // Back, and b leaves before it answered: b's first word to a is its bye.
    a.env.emit({ type: 'pageshow', persisted: true })
    b.release()
    await settle()
    expect(a.connection.state).toMatchObject({ role: 'leader', dropped: 1 })
  })

  it('dropped, received and sent only grow across a hand-over (each leader counts from 0 on its own connection)', async () => {
    browser = new Browser({ queue: { max: 2 } })
    const { a, b } = await leaderConnecting()
    for (const m of ['m1', 'm2', 'm3']) a.connection.send(m)
    expect(a.connection.state.dropped).toBe(1) // m1: over queue.max
    const first = acceptSocket()
    first.receive('in')
    await settle()
    expect(b.connection.state).toMatchObject({ dropped: 1, received: 1, sent: 2 })
    a.release()
    await settle()
    expect(browser.leader()).toBe(b)
    acceptSocket().receive('again')
    await settle()
    expect(b.connection.state).toMatchObject({ dropped: 1, received: 2, sent: 2 })
  })
})

describe('a tab out of the group (pagehide, freeze)', () => {
  it('open() in the task of its pagehide brings it back once: the pageshow after it does not join again (no frame twice)', async () => {
    const { b } = await leaderConnecting()
    const socket = acceptSocket()
    await settle()
    b.env.emit({ type: 'pagehide', persisted: true })
    b.connection.open()
    b.env.emit({ type: 'pageshow', persisted: true })
    await settle()
    socket.receive('"once"')
    await settle()
    expect(b.messages).toEqual(['once'])
  })

  it('open() or reconnect() after the manager disposed it does nothing: no socket for a connection nobody holds', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => {})
    const a = browser.open()
    await settle()
    a.release()
    await settle()
    const sockets = FakeWebSocket.instances.length
    a.connection.open()
    a.connection.reconnect()
    await settle(5_000)
    expect(FakeWebSocket.instances).toHaveLength(sockets)
    expect(a.connection.state.status).toBe('closed')
    vi.restoreAllMocks()
  })

  it("away while the leader dropped its send (over queue.max), it still counts the drop: the leader's bye carries its term's counts", async () => {
    browser = new Browser({ queue: { max: 2 } })
    const { a, b } = await leaderConnecting()
    b.connection.send('mine')
    await settle()
    a.connection.send('a1')
    a.connection.send('a2') // the leader's outbox drops b's 'mine' for this one
    b.env.emit({ type: 'freeze' })
    b.env.emit({ type: 'resume' })
    a.env.emit({ type: 'freeze' })
    await settle()
    expect(writes('mine')).toBe(0)
    expect(b.connection.state.dropped).toBe(1)
  })

  it('released meanwhile, it says closed: a protocol client rejects what waited instead of waiting forever', async () => {
    const { b } = await leaderConnecting()
    const states: string[] = []
    b.connection.on('state', (state) => states.push(state.status))
    b.env.emit({ type: 'pagehide', persisted: true })
    await settle()
    expect(b.connection.state.status).toBe('idle')
    b.release()
    expect(states.at(-1)).toBe('closed')
  })
})

describe('two leaders with one epoch (a tab that missed a term is elected with its number, the clock set back)', () => {
  it("a hub takes only the sends, frames and commands meant for its term: not those a tab posted to the other leader of its epoch", async () => {
    const env = createManualEnvironment({ random: () => 0.5 }, browser.profile)
    const posted: LeaderMessage[] = []
    const hub = new Hub({ url: URL, options: { WebSocket: FakeWebSocket, heartbeat: false }, env, epoch: 42, id: 'leader b', post: (m) => posted.push(m), token: () => null, visible: () => true })
    hub.start(true, false)
    FakeWebSocket.last.accept()
    await settle()
    // Posted by a tab that follows the term (42, 'leader a'), which this hub's term is not.
    hub.receive({ t: 'send', e: 42, to: 'leader a', from: 'tab', id: 1, data: 'for a' })
    hub.receive({ t: 'frame', e: 42, to: 'leader a', from: 'tab', id: 1, data: 'frame for a' })
    hub.receive({ t: 'cmd', e: 42, to: 'leader a', from: 'tab', command: { op: 'close', at: Date.now() + 1, from: 'tab' } })
    // Meant for it (and from a tab of an older build, which names no leader): taken.
    hub.receive({ t: 'send', e: 42, to: 'leader b', from: 'tab', id: 2, data: 'for b' })
    hub.receive({ t: 'send', e: 42, from: 'old tab', id: 1, data: 'unnamed' })
    await settle()
    expect(FakeWebSocket.last.sent).toEqual(['for b', 'unnamed'])
    expect(hub.connection.status).toBe('open')
    expect(posted.filter((m) => m.t === 'ok' || m.t === 'wrote').map((m) => ('to' in m ? `${m.to} ${m.id}` : ''))).toEqual(['tab 2', 'old tab 1'])
    hub.dispose()
  })
})
