/**
 * The demo chat shares one socket across the tabs of a browser (`shareAcrossTabs: true`): the same user signed in in
 * three tabs of one browser context holds one connection to the chat server; the stats panel
 * of one tab says it holds the socket, the others that another tab does; a message said in one
 * tab shows in all; when the leading tab closes, another takes over.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ChatServer } from '../../demo/server'
import { buildSite, joinChat, launchBrowser, removeDir, say, serveSite, startChat, tempDir, UI_TIMEOUT, waitForMessages, type SiteServer } from './helpers'
import { waitFor } from '../support/wait'

let browser: Browser
let site: SiteServer
let chat: ChatServer
let siteDir: string | undefined
let dataDir: string | undefined

beforeAll(async () => {
  siteDir = await buildSite()
  dataDir = await tempDir('tabs-data')
  chat = await startChat(dataDir)
  site = await serveSite(siteDir, () => chat.port)
  browser = await launchBrowser()
})

afterAll(async () => {
  await browser?.close()
  await site?.close()
  await chat?.close({ timeout: 500 })
  await removeDir(siteDir)
  await removeDir(dataDir)
})

/** The role the stats panel shows (`leader` or `follower`). */
const panelRole = (page: Page): Promise<string | null> => page.getByTestId('stat-socket').getAttribute('data-role')

async function roles(pages: Page[]): Promise<string[]> {
  return Promise.all(pages.map(async (page) => (await panelRole(page)) ?? 'none'))
}

describe('the chat in three tabs of one browser', () => {
  it('holds one socket; the stats panel says which tab leads; messages show in every tab; a closed leader is replaced', async () => {
    const context: BrowserContext = await browser.newContext({ viewport: { width: 1200, height: 760 } })
    context.setDefaultTimeout(UI_TIMEOUT)
    const errors: Error[] = []
    const scripts: string[] = []
    try {
      const pages: Page[] = []
      for (let i = 0; i < 3; i++) {
        const page = await context.newPage()
        page.on('pageerror', (error) => errors.push(error))
        page.on('request', (request) => scripts.push(new URL(request.url()).pathname))
        await page.goto(site.url)
        await joinChat(page, 'ada', 'tabs')
        pages.push(page)
      }
      await waitFor(async () => (await roles(pages)).sort().join() === 'follower,follower,leader', { timeout: UI_TIMEOUT, message: 'one leader, two followers in the panels' })
      expect(chat.clients.size).toBe(1)
      for (const page of pages) expect(await page.getByTestId('stat-socket').textContent()).toMatch(/^1, shared by your tabs/)
      // `shareAcrossTabs: true`: the tab-sharing code is a chunk of its own, fetched on first use (cached after the first tab).
      expect(scripts.some((path) => /\/connect-[\w-]+\.js$/.test(path))).toBe(true)

      await say(pages[2], 'hello from the third tab')
      for (const page of pages) await waitForMessages(page, ['hello from the third tab'])

      const leader = pages[(await roles(pages)).indexOf('leader')]
      const rest = pages.filter((p) => p !== leader)
      await leader.close()
      await waitFor(async () => (await roles(rest)).sort().join() === 'follower,leader', { timeout: UI_TIMEOUT, message: 'another tab leads' })
      await waitFor(() => chat.clients.size === 1, { timeout: UI_TIMEOUT, message: 'one socket again' })
      await say(rest[0], 'still here')
      for (const page of rest) await waitForMessages(page, ['hello from the third tab', 'still here'])
      expect(errors.map((e) => e.message)).toEqual([])
    } finally {
      await context.close()
    }
  })
})
