/**
 * One socket across tabs in real Chromium: several pages of one browser context, the page
 * served on http://127.0.0.1 (a secure context), a server that counts sockets.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { launchBrowser } from './helpers'
import { defects, info, leaderOf, messages, openTab, seqs, startStream, startTabsServer, waitForMoreSeqs, waitForOneLeader, waitForSeq, TABS_TIMEOUT, type TabsServer } from './tabs/harness'
import { waitFor } from '../support/wait'

let browser: Browser
let server: TabsServer
let context: BrowserContext

beforeAll(async () => {
  browser = await launchBrowser()
})
afterAll(async () => {
  await browser?.close()
})
beforeEach(async () => {
  server = await startTabsServer()
  context = await browser.newContext()
})
afterEach(async () => {
  await stream?.stop()
  stream = undefined
  await context.close()
  await server.close()
})

/** The stream of the running test, stopped after it whatever happens. */
let stream: ReturnType<typeof startStream> | undefined
function streamEvery10ms(): ReturnType<typeof startStream> {
  return (stream = startStream(server))
}

async function openTabs(n: number, query?: string): Promise<Page[]> {
  const pages: Page[] = []
  for (let i = 0; i < n; i++) pages.push(await openTab(context, server, query))
  return pages
}

/** The two ways of turning sharing on: the value bundled up front, and the contract's plain `true` (loaded on first use). */
const FORMS = [
  { form: 'tabSharing()', query: '' },
  { form: 'shareAcrossTabs: true', query: '&share=plain' },
]

describe('N pages, one socket', () => {
  for (const { form, query } of FORMS) {
    for (const n of [1, 2, 8]) {
      it(`${form}, ${n} page(s): one socket; every page sees every message; a send from any page arrives once`, async () => {
        const pages = await openTabs(n, `mode=plain${query}`)
        await waitForOneLeader(pages)
        expect(server.upgrades).toBe(1)
        expect(server.maxOpen).toBe(1)
        for (let i = 0; i < 5; i++) server.broadcastPlain(`m${i}`)
        const expected = ['m0', 'm1', 'm2', 'm3', 'm4']
        for (const page of pages) await waitFor(async () => (await messages(page)).length === 5, { timeout: TABS_TIMEOUT })
        for (const page of pages) expect(await messages(page)).toEqual(expected)
        await Promise.all(pages.map((page, i) => page.evaluate((i) => (window as any).tab.send(`from ${i}`), i)))
        await waitFor(() => server.plainReceived.length >= n, { timeout: TABS_TIMEOUT })
        expect([...server.plainReceived].sort()).toEqual(pages.map((_, i) => `from ${i}`).sort())
        expect(server.upgrades).toBe(1)
        // `true` fetched the tab-sharing chunk (once per page); tabSharing() has it in the page already.
        const chunk = server.chunk('connect')
        expect(chunk).toBeDefined()
        expect(server.requests.filter((path) => path === chunk)).toHaveLength(query ? n : 0)
      })
    }
  }

  it('shareAcrossTabs: true: sends made while the tab-sharing chunk still loads are kept and arrive once, in order', async () => {
    // `early`: the page sends right after acquire, in the same task: the chunk cannot have loaded.
    const pages = await openTabs(2, 'mode=plain&share=plain&early')
    await waitForOneLeader(pages)
    for (const page of pages) expect(await page.evaluate(() => (window as any).tab.state.early)).toEqual(['LazyTabConnection', 'follower', 'queued', 'queued'])
    await waitFor(() => server.plainReceived.length >= 4, { timeout: TABS_TIMEOUT })
    expect(server.plainReceived.filter((m) => m === 'early 1')).toHaveLength(2)
    expect(server.plainReceived.filter((m) => m === 'early 2')).toHaveLength(2)
    // The first page's two sends both come before the second page's 'early 2' can overtake its 'early 1'.
    expect(server.plainReceived.indexOf('early 1')).toBeLessThan(server.plainReceived.indexOf('early 2'))
    expect(server.plainReceived.lastIndexOf('early 1')).toBeLessThan(server.plainReceived.lastIndexOf('early 2'))
    expect(server.upgrades).toBe(1)
  })

  it('sharing off: the tab-sharing chunk is never fetched', async () => {
    const pages = await openTabs(2, 'mode=plain&share=off')
    for (const page of pages) expect((await info(page)).role).toBe('solo')
    expect(server.open).toBe(2)
    expect(server.requests.filter((path) => path === server.chunk('connect'))).toEqual([])
  })
})

/**
 * Three pages subscribed to `stream`; the server publishes every 10 ms; `handOver` takes the
 * leader away and returns the pages that remain. Every remaining page must then see one
 * socket, and every seq once, in order, from the first it saw to the last published.
 */
async function streamAcrossHandOver(handOver: (leader: Page, pages: Page[]) => Promise<Page[]>, query = ''): Promise<{ pages: Page[]; seqs: number[][] }> {
  const pages = await openTabs(3, `mode=protocol${query}`)
  const leader = await waitForOneLeader(pages)
  const stream = streamEvery10ms()
  for (const page of pages) await waitForMoreSeqs(page, 10)
  const survivors = await handOver(leader, pages)
  const next = await waitForOneLeader(survivors)
  expect(next).not.toBe(leader)
  for (const page of survivors) await waitForMoreSeqs(page, 20)
  const last = await stream.stop()
  for (const page of survivors) await waitForSeq(page, last)
  await server.waitForOpen(1)
  const lists = await Promise.all(survivors.map((page) => seqs(page)))
  for (const list of lists) {
    expect(defects(list)).toEqual({ missing: [], repeated: [] })
    expect(list.at(-1)).toBe(last)
  }
  return { pages: survivors, seqs: lists }
}

describe('hand-over with a stream every 10 ms: none lost, none twice, in any page', () => {
  for (const { form, query } of FORMS) {
    it(`${form}: the leader page closes`, async () => {
      await streamAcrossHandOver(async (leader, pages) => {
        await leader.close()
        return pages.filter((p) => p !== leader)
      }, query)
      expect(server.upgrades).toBe(2)
    })
  }

  it('the leader page closes running its beforeunload handlers', async () => {
    await streamAcrossHandOver(async (leader, pages) => {
      const closed = new Promise((resolve) => leader.once('close', resolve))
      await leader.close({ runBeforeUnload: true })
      await closed
      return pages.filter((p) => p !== leader)
    })
    expect(server.upgrades).toBe(2)
  })

  for (const { form, query } of FORMS) {
    it(`${form}: the leader page crashes (CDP Page.crash)`, async () => {
      await streamAcrossHandOver(async (leader, pages) => {
        const crashed = new Promise((resolve) => leader.once('crash', resolve))
        const cdp = await context.newCDPSession(leader)
        void cdp.send('Page.crash').catch(() => {})
        await crashed
        return pages.filter((p) => p !== leader)
      }, query)
    })
  }
})

describe('a leader that stops running', () => {
  it('paused in the debugger (its counter stops): a visible follower steals; on resume the old leader steps down; nothing lost or doubled anywhere', async () => {
    const pages = await openTabs(3, 'mode=protocol')
    const leader = await waitForOneLeader(pages)
    const followers = pages.filter((p) => p !== leader)
    const stream = streamEvery10ms()
    for (const page of pages) await waitForMoreSeqs(page, 10)

    const cdp = await context.newCDPSession(leader)
    await cdp.send('Debugger.enable')
    const paused = new Promise<{ callFrames: Array<{ callFrameId: string }> }>((resolve) => cdp.once('Debugger.paused', resolve))
    await cdp.send('Debugger.pause')
    const frame = (await paused).callFrames[0].callFrameId
    const counter = async (): Promise<number> =>
      (await cdp.send('Debugger.evaluateOnCallFrame', { callFrameId: frame, expression: 'window.tab.state.counter' })).result.value as number
    const before = await counter()

    const next = await waitForOneLeader(followers)
    expect(followers).toContain(next)
    for (const page of followers) await waitForMoreSeqs(page, 20)
    expect(await counter()).toBe(before) // it really was stopped all along
    expect(server.open).toBe(2) // the paused page's socket is still up

    await cdp.send('Debugger.resume')
    expect(await waitForOneLeader(pages)).toBe(next)
    expect((await info(leader)).role).toBe('follower')
    await server.waitForOpen(1)
    const last = await stream.stop()
    for (const page of pages) await waitForSeq(page, last)
    for (const page of pages) expect(defects(await seqs(page))).toEqual({ missing: [], repeated: [] })
  })
})

describe('who shares', () => {
  it('two browser contexts do not share', async () => {
    const other = await browser.newContext()
    try {
      const a = await openTab(context, server)
      const b = await openTab(other, server)
      expect((await info(a)).role).toBe('leader')
      expect((await info(b)).role).toBe('leader')
      expect(server.open).toBe(2)
    } finally {
      await other.close()
    }
  })

  for (const { form, query } of FORMS) {
    it(`${form}: without navigator.locks each page opens its own socket (role solo)`, async () => {
      await context.addInitScript(() => Object.defineProperty(Navigator.prototype, 'locks', { get: () => undefined }))
      const pages = await openTabs(3, `mode=plain${query}`)
      for (const page of pages) expect((await info(page)).role).toBe('solo')
      expect(server.open).toBe(3)
      // `true` decides before loading anything: a tab that cannot share never fetches the chunk.
      if (query) expect(server.requests.filter((path) => path === server.chunk('connect'))).toEqual([])
    })
  }
})

describe('the back/forward cache', () => {
  it('a leader that navigates away gives up the socket; restored from the bfcache it follows and catches up', async () => {
    const cached = await launchBrowser({ backForwardCache: true })
    const own = await cached.newContext()
    try {
      const pages: Page[] = []
      for (let i = 0; i < 3; i++) pages.push(await openTab(own, server, 'mode=protocol'))
      const leader = await waitForOneLeader(pages)
      const others = pages.filter((p) => p !== leader)
      const stream = streamEvery10ms()
      for (const page of pages) await waitForMoreSeqs(page, 10)
      await leader.goto(`${server.url}other`)
      await waitForOneLeader(others)
      for (const page of others) await waitForMoreSeqs(page, 20)
      // A page restored from the bfcache fires no `load`: wait for the commit, then its pageshow.
      await leader.goBack({ waitUntil: 'commit' })
      await leader.waitForFunction(() => (window as any).tab?.state.pageshows.includes(true))
      await waitForOneLeader(pages)
      expect((await info(leader)).role).toBe('follower')
      await waitForMoreSeqs(leader, 10)
      const last = await stream.stop()
      for (const page of pages) await waitForSeq(page, last)
      for (const page of pages) expect(defects(await seqs(page))).toEqual({ missing: [], repeated: [] })
      await server.waitForOpen(1)
    } finally {
      await own.close()
      await cached.close()
    }
  })
})

describe('publishes across a hand-over', () => {
  it('follower publishes in flight while the leader page closes reach the server exactly once', async () => {
    const pages = await openTabs(3, 'mode=protocol')
    const leader = await waitForOneLeader(pages)
    const followers = pages.filter((p) => p !== leader)
    const stored: string[] = []
    server.realtime.on('publish', (m) => stored.push(String(m.id)))
    // Each follower publishes 30 messages, one every few ms, while the leader goes.
    const acks = followers.map((page, f) =>
      page.evaluate(async (f) => {
        const seqs: Array<number | undefined> = []
        const sends: Promise<void>[] = []
        for (let i = 0; i < 30; i++) {
          sends.push((window as any).tab.publish('inbox', { i }, `f${f}-${i}`).then((seq: number) => void seqs.push(seq)))
          await new Promise((resolve) => setTimeout(resolve, 3))
        }
        await Promise.all(sends)
        return seqs
      }, f),
    )
    await leader.close()
    const seqs = (await Promise.all(acks)).flat()
    expect(seqs).toHaveLength(60)
    expect(new Set(seqs).size).toBe(60)
    expect([...stored].sort()).toEqual(followers.flatMap((_, f) => Array.from({ length: 30 }, (_, i) => `f${f}-${i}`)).sort())
    await waitForOneLeader(followers)
  })
})

describe("via: 'worker'", () => {
  const forms = [
    { form: "tabSharing({ via: 'worker', worker })", query: '' },
    { form: "shareAcrossTabs: { via: 'worker', worker }", query: '&share=plain' },
  ]
  for (const { form, query } of forms) {
    it(`${form}: a SharedWorker holds one socket for every page; all follow; every page sees every message; a send from any page arrives once; it closes with the last page`, async () => {
      const pages = await openTabs(3, `mode=plain&via=worker${query}`)
      for (const page of pages) expect((await info(page)).role).toBe('follower')
      expect(server.open).toBe(1)
      server.broadcastPlain('hello')
      for (const page of pages) await waitFor(async () => (await messages(page)).length === 1, { timeout: TABS_TIMEOUT })
      await Promise.all(pages.map((page, i) => page.evaluate((i) => (window as any).tab.send(`w${i}`), i)))
      await waitFor(() => server.plainReceived.length >= 3, { timeout: TABS_TIMEOUT })
      expect([...server.plainReceived].sort()).toEqual(['w0', 'w1', 'w2'])
      await pages[0].close()
      await pages[1].close()
      server.broadcastPlain('still')
      await waitFor(async () => (await messages(pages[2])).length === 2, { timeout: TABS_TIMEOUT })
      await pages[2].close()
      await server.waitForOpen(0)
    })
  }

  it('the browser ends the SharedWorker: the pages notice, start a new one with one socket, and messages flow again, none lost after that nor doubled', async () => {
    const pages = await openTabs(3, 'mode=plain&via=worker')
    expect(server.open).toBe(1)
    server.broadcastPlain('before')
    for (const page of pages) await waitFor(async () => (await messages(page)).length === 1, { timeout: TABS_TIMEOUT })

    // The worker's target, through the browser's DevTools protocol (as chrome://inspect stops one).
    const cdp = await browser.newBrowserCDPSession()
    const workers = async () => {
      const { targetInfos } = await cdp.send('Target.getTargets')
      return targetInfos.filter((t) => t.type === 'shared_worker' && t.url.endsWith('/worker.js'))
    }
    await cdp.send('Target.setDiscoverTargets', { discover: true })
    const [dead] = await waitFor(async () => ((await workers()).length === 1 ? workers() : undefined), { timeout: TABS_TIMEOUT, message: 'one shared worker target' })
    const { success } = await cdp.send('Target.closeTarget', { targetId: dead.targetId })
    expect(success).toBe(true)
    // It is dead: its socket closes (the server sees it go) and its target is gone.
    await server.waitForOpen(0)
    await waitFor(async () => !(await workers()).some((t) => t.targetId === dead.targetId), { timeout: TABS_TIMEOUT, message: 'the killed worker target gone' })

    // Sent into the dead worker's port before the pages notice: lost, or at most once, never doubled; counted if lost.
    await Promise.all(pages.map((page, i) => page.evaluate((i) => (window as any).tab.send(`during ${i}`), i)))
    // A new worker (started by the pages, no page reloaded) opens one socket; every page noticed
    // (until then a page shows the dead worker's state) and is open on it.
    await server.waitForOpen(1)
    const recovered = (page: Page) =>
      page.evaluate(() => {
        const events: Array<{ what: string; detail?: unknown }> = (window as any).tab.state.events
        const gone = events.findIndex((e) => e.what === 'close' && e.detail === 1001)
        return gone >= 0 && events.slice(gone).some((e) => e.what === 'open') && (window as any).tab.info().status === 'open'
      })
    for (const page of pages) await waitFor(() => recovered(page), { timeout: TABS_TIMEOUT, message: 'the page noticed the dead worker and is open on the new one' })
    const [alive] = await waitFor(async () => ((await workers()).length === 1 ? workers() : undefined), { timeout: TABS_TIMEOUT, message: 'one new shared worker target' })
    expect(alive.targetId).not.toBe(dead.targetId)
    expect(server.upgrades).toBe(2)
    expect(server.maxOpen).toBe(1)
    await cdp.detach()

    server.broadcastPlain('after')
    for (const page of pages) await waitFor(async () => (await messages(page)).length === 2, { timeout: TABS_TIMEOUT })
    for (const page of pages) expect(await messages(page)).toEqual(['before', 'after'])
    const sends = pages.map((_, i) => Array.from({ length: 5 }, (_, k) => `after ${i}.${k}`))
    await Promise.all(pages.map((page, i) => page.evaluate((list) => list.forEach((m) => (window as any).tab.send(m)), sends[i])))
    await waitFor(() => sends.flat().every((m) => server.plainReceived.includes(m)), { timeout: TABS_TIMEOUT, message: 'every send made after recovery arrived' })
    // In order per page, and nothing twice.
    for (const list of sends) expect(server.plainReceived.filter((m) => list.includes(m))).toEqual(list)
    expect(new Set(server.plainReceived).size).toBe(server.plainReceived.length)
    for (const [i, page] of pages.entries()) {
      const lost = server.plainReceived.includes(`during ${i}`) ? 0 : 1
      expect((await info(page)).uncertain).toBeGreaterThanOrEqual(lost)
    }
    expect(server.open).toBe(1)
  })
})
