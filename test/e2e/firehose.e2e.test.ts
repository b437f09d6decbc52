/**
 * `messages` under a firehose in real Chromium: a burst becomes one render per animation frame
 * (never several in one frame), every message is in `messages`, and where animation frames stop
 * the fallback timer still delivers. The page is test/support/firehosePage.ts (also the bench's
 * scenario j). No timing assertions: renders are counted per frame, not timed.
 */
import type { Browser, Frame, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { buildFirehosePage, startFirehoseServer, type FirehoseServer } from '../support/firehose'
import type { FirehoseStats } from '../support/firehosePage'
import { UI_TIMEOUT, launchBrowser } from './helpers'

let browser: Browser
let server: FirehoseServer
const pages: Page[] = []

beforeAll(async () => {
  server = await startFirehoseServer(await buildFirehosePage())
  browser = await launchBrowser()
})
afterAll(async () => {
  await browser?.close()
  await server?.close()
})
afterEach(async () => {
  await Promise.all(pages.splice(0).map((p) => p.close()))
})

async function open(url: string): Promise<Page> {
  const page = await browser.newPage()
  pages.push(page)
  await page.goto(url)
  return page
}

const stats = (target: Page | Frame): Promise<FirehoseStats> =>
  target.evaluate(() => (window as unknown as { __firehose: FirehoseStats }).__firehose)

/** Polls on a timer: Playwright's default polls on animation frames, which stop in the last test. */
async function until(target: Page | Frame, predicate: string, arg?: unknown): Promise<void> {
  await target.waitForFunction(`(${predicate})((window).__firehose, ${JSON.stringify(arg)})`, undefined, { timeout: UI_TIMEOUT, polling: 20 })
}

const BURST = 500

describe('messages under a firehose, in Chromium', () => {
  it("flush 'frame': a burst renders at most once per animation frame, with every message shown", async () => {
    const page = await open(server.pageUrl('vue-realtime', { keep: String(BURST) }))
    await until(page, '(s) => s.open')
    const before = await stats(page)
    server.burst(BURST)
    await until(page, '(s, n) => s.handled === n && s.shown === n', BURST)
    const after = await stats(page)
    const renders = after.renderFrames.slice(before.renders)
    expect(renders.length).toBeGreaterThan(0)
    // One render per frame at most: no frame index appears twice.
    expect(new Set(renders).size).toBe(renders.length)
    expect(after.lastShown - before.lastShown).toBeGreaterThanOrEqual(BURST)
  })

  it("flush 'microtask': one render per message event (the behaviour 'frame' replaces)", async () => {
    const page = await open(server.pageUrl('vue-realtime', { keep: String(BURST), flush: 'microtask' }))
    await until(page, '(s) => s.open')
    const before = await stats(page)
    server.burst(BURST)
    await until(page, '(s, n) => s.handled === n && s.shown === n', BURST)
    const after = await stats(page)
    // Each WebSocket message event is a task of its own, so each gets its own render.
    expect(after.renders - before.renders).toBe(BURST)
  })

  it('delivers through the fallback timer where animation frames have stopped', async () => {
    // A display:none cross-origin iframe: Chromium stops its animation frames (as in a hidden
    // tab) while its timers and WebSocket run on.
    const inner = server.pageUrl('vue-realtime', { keep: String(BURST) }, 'localhost')
    const page = await open(server.hiddenFrameUrl(inner))
    let frame: Frame | undefined
    await expect.poll(() => (frame = page.frames().find((f) => f.url().startsWith('http://localhost'))), { timeout: UI_TIMEOUT }).toBeTruthy()
    await until(frame!, '(s) => s.open')
    const before = await stats(frame!)
    server.burst(100)
    await until(frame!, '(s, n) => s.shown === n', 100)
    const after = await stats(frame!)
    // The premise: no animation frame ran in between; yet the messages were rendered.
    expect(after.frame).toBe(before.frame)
    expect(after.renders).toBeGreaterThan(before.renders)
    expect(after.handled).toBe(100)
  })
})
