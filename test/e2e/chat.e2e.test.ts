/**
 * The demo chat in headless Chromium: two users talking, a server restart mid-conversation,
 * an offline spell, an XSS payload and the 375 px layout. Screenshots go to test-results/e2e/.
 */
import { copyFile, mkdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { Browser } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { ChatServer } from '../../demo/server'
import {
  ROOT,
  UI_TIMEOUT,
  buildSite,
  joinChat,
  launchBrowser,
  messageTexts,
  openPage,
  removeDir,
  say,
  screenshot,
  serveSite,
  startChat,
  tempDir,
  waitForDelivery,
  waitForMessages,
  waitForStatus,
  type ChatPage,
  type SiteServer,
} from './helpers'

let browser: Browser
let site: SiteServer
let chat: ChatServer
let chatPort = 0
let siteDir: string | undefined
let dataDir: string | undefined
const open: ChatPage[] = []

beforeAll(async () => {
  siteDir = await buildSite()
  dataDir = await tempDir('data')
  chat = await startChat(dataDir)
  chatPort = chat.port
  site = await serveSite(siteDir, () => chatPort)
  browser = await launchBrowser()
})

afterAll(async () => {
  await browser?.close()
  await site?.close()
  await chat?.close({ timeout: 500 })
  await removeDir(siteDir)
  await removeDir(dataDir)
})

afterEach(async () => {
  const errors = open.flatMap((p) => p.errors.map((e) => e.message))
  await Promise.all(open.splice(0).map((p) => p.context.close()))
  expect(errors, 'uncaught errors in the page').toEqual([])
})

async function user(viewport?: { width: number; height: number }): Promise<ChatPage> {
  const page = await openPage(browser, site, viewport)
  open.push(page)
  return page
}

describe('demo chat in Chromium', () => {
  it('two users exchange messages, see presence and typing, and DM with an unread count', async () => {
    const alice = await user()
    await alice.page.getByTestId('join-name').fill('Alice')
    await screenshot(alice.page, 'join')
    await joinChat(alice.page, 'Alice', 'general')
    const bob = await user()
    await joinChat(bob.page, 'Bob', 'general')

    await say(alice.page, 'Hi Bob! Did the deploy go out?')
    await waitForMessages(bob.page, ['Hi Bob! Did the deploy go out?'])
    await say(bob.page, 'Yes, 10 minutes ago. All green!')
    await say(alice.page, 'Great, thanks!')
    const conversation = ['Hi Bob! Did the deploy go out?', 'Yes, 10 minutes ago. All green!', 'Great, thanks!']
    await waitForMessages(alice.page, conversation)
    await waitForMessages(bob.page, conversation)
    await waitForDelivery(alice.page, 'Delivered', 2)
    const firstMessage = alice.page.getByTestId('message').first()
    expect(await firstMessage.textContent()).toContain('Alice')
    expect(await firstMessage.locator('time').count()).toBe(1)

    // Presence: each sees the other online, in words.
    await alice.page.locator('[data-testid="presence-item"][data-name="Bob"]').filter({ hasText: 'online' }).waitFor()
    await bob.page.locator('[data-testid="presence-item"][data-name="Alice"]').filter({ hasText: 'online' }).waitFor()

    // Typing indicator.
    await bob.page.getByTestId('composer-input').fill('typing something…')
    await alice.page.getByTestId('typing').filter({ hasText: 'Bob is typing…' }).waitFor()
    await bob.page.getByTestId('composer-input').fill('')

    // A direct message shows up as an unread DM for Alice.
    await bob.page.locator('[data-testid="presence-item"][data-name="Alice"] button').click()
    await bob.page.getByRole('heading', { name: '@Alice' }).waitFor()
    await say(bob.page, 'psst: lunch at 12?')
    await waitForMessages(bob.page, ['psst: lunch at 12?'])
    const dm = alice.page.locator('[data-testid="room-item"][data-dm="Bob"]')
    await dm.getByTestId('unread').filter({ hasText: '1' }).waitFor()

    // Bob is back in #general and typing: the screenshot of the README.
    await bob.page.locator('[data-testid="room-item"][data-room="general"]').click()
    await alice.page.locator('[data-testid="presence-item"][data-name="Bob"]').filter({ hasText: 'online' }).waitFor()
    await bob.page.getByTestId('composer-input').fill('Sounds good')
    await alice.page.getByTestId('typing').filter({ hasText: 'Bob is typing…' }).waitFor()
    const chatShot = await screenshot(alice.page, 'chat')
    const docsShot = join(ROOT, 'docs/screenshots/chat.png')
    if (process.env.UPDATE_SCREENSHOTS === '1' || !(await stat(docsShot).catch(() => null))) {
      await mkdir(join(ROOT, 'docs/screenshots'), { recursive: true })
      await copyFile(chatShot, docsShot)
    }

    await dm.click()
    await waitForMessages(alice.page, ['psst: lunch at 12?'])
    await dm.getByTestId('unread').waitFor({ state: 'detached' })

    // A message in a room Alice is not looking at counts as unread there.
    await say(bob.page, 'Sounds good')
    const general = alice.page.locator('[data-testid="room-item"][data-room="general"]')
    await general.getByTestId('unread').filter({ hasText: '1' }).waitFor()
    await general.click()
    await waitForMessages(alice.page, [...conversation, 'Sounds good'])
    await general.getByTestId('unread').waitFor({ state: 'detached' })
  })

  it('survives a server restart mid-conversation: both reconnect, nothing lost or duplicated', async () => {
    const alice = await user()
    await joinChat(alice.page, 'Alice', 'ops')
    const bob = await user()
    await joinChat(bob.page, 'Bob', 'ops')
    const before = ['one', 'two', 'three', 'four']
    for (const [i, text] of before.entries()) {
      await say(i % 2 ? bob.page : alice.page, text)
      await waitForMessages(alice.page, before.slice(0, i + 1))
    }
    await waitForMessages(bob.page, before)

    await chat.close({ code: 1012, reason: 'restarting' })
    for (const { page } of [alice, bob]) {
      await page.getByTestId('retry-now').waitFor()
      expect(await page.getByTestId('connection-status').textContent()).not.toContain('Connected')
      const banner = await page.getByTestId('connection-banner').textContent()
      expect(banner).toMatch(/Last close: (1012 Service Restart|1006 Abnormal Closure)/)
      // The server's retry hint (docs/protocol.md) steers the retry; the reason people read goes without it.
      expect(banner).not.toContain('retry=')
    }
    // Written while the server is down: shown pending, delivered once it is back.
    await say(alice.page, 'written during the restart')
    await alice.page.locator('[data-testid="message"][data-delivery="pending"]').waitFor()
    await screenshot(alice.page, 'reconnecting')

    chat = await startChat(dataDir!, chatPort)
    // Alice skips the backoff with Retry now (it may already be gone if a retry won the race); Bob waits for his.
    await alice.page.getByTestId('retry-now').click({ timeout: 2000 }).catch(() => {})
    await waitForStatus(alice.page, 'Connected')
    await waitForStatus(bob.page, 'Connected')
    await waitForDelivery(alice.page, 'Delivered', 3)
    // The stats panel (useRealtimeStore) remembers the close.
    await alice.page.getByText('Connection stats').click()
    expect(await alice.page.locator('.stats dl').innerText()).toMatch(/Last close\s+(1012 Service Restart|1006 Abnormal Closure)/)
    await say(bob.page, 'after the restart')

    const all = [...before, 'written during the restart', 'after the restart']
    await waitForMessages(alice.page, all)
    await waitForMessages(bob.page, all)

    // History survived the restart on disk: a reload replays it exactly once.
    await bob.page.reload()
    await waitForStatus(bob.page, 'Connected')
    await waitForMessages(bob.page, all)
    expect(await messageTexts(alice.page)).toEqual(all)
  })

  it('keeps messages typed offline pending and delivers them after reconnecting', async () => {
    const alice = await user()
    await joinChat(alice.page, 'Alice', 'trains')
    const carol = await user()
    await joinChat(carol.page, 'Carol', 'trains')
    await say(carol.page, 'entering the tunnel')
    await waitForMessages(alice.page, ['entering the tunnel'])

    await carol.context.setOffline(true)
    await carol.page.getByTestId('offline-banner').waitFor()
    await waitForStatus(carol.page, 'Offline')
    await say(carol.page, 'still there?')
    await say(carol.page, 'signal is bad here')
    await carol.page.locator('[data-testid="message"][data-delivery="pending"]').nth(1).waitFor()
    const marks = await carol.page.locator('[data-delivery="pending"] [data-testid="message-status"]').allTextContents()
    expect(marks.map((m) => m.trim())).toEqual(['○ Pending', '○ Pending'])
    await screenshot(carol.page, 'offline')
    expect(await messageTexts(alice.page)).toEqual(['entering the tunnel'])

    await carol.context.setOffline(false)
    await waitForStatus(carol.page, 'Connected')
    await waitForDelivery(carol.page, 'Delivered', 3)
    const all = ['entering the tunnel', 'still there?', 'signal is bad here']
    await waitForMessages(alice.page, all)
    await waitForMessages(carol.page, all)
    await carol.page.getByTestId('offline-banner').waitFor({ state: 'detached' })
  })

  it('renders an XSS payload as literal text', async () => {
    const payload = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
    const mallory = await user()
    await joinChat(mallory.page, 'Mallory', 'xss')
    const alice = await user()
    await joinChat(alice.page, 'Alice', 'xss')
    await say(mallory.page, payload)
    await waitForMessages(alice.page, [payload])
    await waitForMessages(mallory.page, [payload])
    for (const { page } of [mallory, alice]) {
      expect(await page.locator('[data-testid="message"] img, [data-testid="message"] script').count()).toBe(0)
      expect(await page.evaluate(() => (window as { __xss?: unknown }).__xss)).toBeUndefined()
    }
  })

  it('is usable 375 px wide', async () => {
    const dana = await user({ width: 375, height: 740 })
    await screenshot(dana.page, 'mobile-join')
    await joinChat(dana.page, 'Dana', 'general')
    await waitForMessages(dana.page, ['Hi Bob! Did the deploy go out?', 'Yes, 10 minutes ago. All green!', 'Great, thanks!', 'Sounds good'])
    await say(dana.page, 'Reading this on my phone')
    await waitForDelivery(dana.page, 'Delivered', 1)
    expect(await dana.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375)
    expect(await dana.page.getByTestId('composer-send').isVisible()).toBe(true)
    await screenshot(dana.page, 'mobile-chat')

    // The rooms live in a drawer behind the menu button.
    await dana.page.getByRole('button', { name: 'Rooms and people' }).click()
    await dana.page.locator('[data-testid="room-item"][data-room="general"]').waitFor({ state: 'visible' })
    await screenshot(dana.page, 'mobile-drawer')
    await dana.page.locator('[data-testid="room-item"][data-room="random"]').click()
    await dana.page.getByRole('heading', { name: '#random' }).waitFor()
    await dana.page.getByTestId('composer-input').waitFor({ state: 'visible', timeout: UI_TIMEOUT })
  })
})
