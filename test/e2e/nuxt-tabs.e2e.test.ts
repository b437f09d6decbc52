// The built Nuxt module with `shareAcrossTabs: true` (test/nuxt/fixture, VUE_REALTIME_TABS=1), in
// Debian's Chromium: two tabs of one browser profile hold one socket per URL between them, a
// publish from the follower is acked through the leader's socket, and hydration matches;
// NUXT_PUBLIC_REALTIME_SHARE_ACROSS_TABS=false turns sharing off at deploy time.
import { $fetch, getBrowser, startServer, url } from '@nuxt/test-utils/e2e'
import type { Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { UI_TIMEOUT } from './helpers'
import { clientScripts, recordScripts, setupNuxtFixture, TAB_SHARING_MARKER, watchConsole } from './nuxt-helpers'

await setupNuxtFixture({ tabs: true })

const text = (page: Page, id: string) => page.getByTestId(id).textContent()

/** Opens the app in two tabs of one browser profile, each connected, with their console problems. */
async function twoTabs(): Promise<{ tabs: Page[]; problems: string[]; scripts: Array<Promise<string>>; close: () => Promise<void> }> {
  const context = await (await getBrowser()).newContext()
  const tabs: Page[] = []
  const problems: string[] = []
  const scripts: Array<Promise<string>> = []
  for (const _ of [1, 2]) {
    const page = await context.newPage()
    page.setDefaultTimeout(UI_TIMEOUT)
    watchConsole(page, problems)
    recordScripts(page, scripts)
    await page.goto(url('/'), { waitUntil: 'load' })
    await expect.poll(() => text(page, 'channel-status'), { timeout: UI_TIMEOUT }).toBe('open')
    await expect.poll(() => text(page, 'socket-status'), { timeout: UI_TIMEOUT }).toBe('open')
    tabs.push(page)
  }
  return { tabs, problems, scripts, close: () => context.close() }
}

describe('vue-realtime/nuxt with shareAcrossTabs', () => {
  it('ships the tab-sharing code in the client build', async () => {
    expect(await clientScripts()).toContain(TAB_SHARING_MARKER)
  })

  it('two tabs share one socket per URL; the follower publishes through the leader', async () => {
    await startServer()
    // The server renders `solo` (no tab is elected there); hydration must not disagree.
    expect(await $fetch<string>('/')).toContain('data-testid="role">solo<')
    const { tabs, problems, scripts, close } = await twoTabs()
    await expect.poll(() => Promise.all(tabs.map((p) => text(p, 'role'))), { timeout: UI_TIMEOUT }).toEqual(['leader', 'follower'])
    expect((await Promise.all(scripts)).join('\n')).toContain(TAB_SHARING_MARKER)
    // The channel's connection and the plain socket: two sockets for two tabs, not four.
    expect(await $fetch<{ clients: number }>('/api/realtime')).toMatchObject({ clients: 2 })
    await tabs[1]!.getByTestId('publish').click()
    await expect.poll(() => text(tabs[1]!, 'acked'), { timeout: UI_TIMEOUT }).toMatch(/^seq \d+$/)
    await expect.poll(() => tabs[0]!.getByTestId('messages').locator('li').count(), { timeout: UI_TIMEOUT }).toBeGreaterThan(0)
    expect(problems).toEqual([])
    await close()
  })

  it('NUXT_PUBLIC_REALTIME_SHARE_ACROSS_TABS=false gives each tab its own sockets, without a rebuild', async () => {
    await startServer({ env: { NUXT_PUBLIC_REALTIME_SHARE_ACROSS_TABS: 'false' } })
    const { tabs, problems, close } = await twoTabs()
    expect(await Promise.all(tabs.map((p) => text(p, 'role')))).toEqual(['solo', 'solo'])
    await expect.poll(() => $fetch<{ clients: number }>('/api/realtime'), { timeout: UI_TIMEOUT }).toMatchObject({ clients: 4 })
    expect(problems).toEqual([])
    await close()
  })
})
