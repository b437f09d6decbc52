// The built Nuxt module with `shareAcrossTabs: { name: 'fixture-build' }` (test/nuxt/fixture,
// VUE_REALTIME_TABS), in Debian's Chromium: two tabs of one browser profile hold one socket per
// URL between them, a publish from the follower is acked through the leader's socket, and
// hydration matches; the name is in the Web Locks and BroadcastChannel names, and
// NUXT_PUBLIC_REALTIME_SHARE_ACROSS_TABS_NAME replaces it at deploy time;
// NUXT_PUBLIC_REALTIME_SHARE_ACROSS_TABS=false turns sharing off at deploy time.
import { $fetch, getBrowser, startServer, url } from '@nuxt/test-utils/e2e'
import type { Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { UI_TIMEOUT } from './helpers'
import { clientScripts, recordScripts, setupNuxtFixture, TAB_SHARING_MARKER, text, watchConsole } from './nuxt-helpers'

/** `shareAcrossTabs.name` in the fixture's nuxt.config for this build. */
const BUILD_NAME = 'fixture-build'

await setupNuxtFixture({ tabs: BUILD_NAME })

/** The names of the tab-sharing Web Locks of the page's origin, held or waited for (`navigator.locks.query()`). */
async function tabLocks(page: Page): Promise<string[]> {
  const names = await page.evaluate(async () => {
    const { held = [], pending = [] } = await navigator.locks.query()
    return [...held, ...pending].map((lock) => lock.name ?? '')
  })
  return names.filter((name) => name.startsWith(TAB_SHARING_MARKER))
}

/**
 * The groups the tabs share in: the names of the locks their leaders hold to lead (each tab
 * also holds `<group> tab <id>` while it is in a group, and `<group> term <epoch>` for the last
 * term it led), which are also the names of their BroadcastChannels. One per connection: the
 * channel's and the plain socket's.
 */
async function groups(page: Page): Promise<string[]> {
  const names = await page.evaluate(async () => ((await navigator.locks.query()).held ?? []).map((lock) => lock.name ?? ''))
  return names.filter((name) => name.startsWith(TAB_SHARING_MARKER) && !/ (tab \S+|term \d+)$/.test(name)).sort()
}

/** `text` as a regular expression that matches it literally. */
const literal = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
/** A group name for the fixture's URL in the group `name`: `vue-realtime.tabs.v<n> <url>[ <subprotocols>] <name>`. */
const groupOf = (name: string): RegExp => new RegExp(`^vue-realtime\\.tabs\\.v\\d+ ws://${literal(new URL(url('/')).host)}/_realtime(?: \\S+)? ${literal(name)}$`)

/** The first message heard on the BroadcastChannel `name` from `page` (a leader with followers beats every second). */
function firstMessageOn(page: Page, name: string): Promise<unknown> {
  return page.evaluate(
    ({ name, timeout }) =>
      new Promise<unknown>((resolve, reject) => {
        const channel = new BroadcastChannel(name)
        const timer = setTimeout(() => {
          channel.close()
          reject(new Error(`no message on BroadcastChannel "${name}" within ${timeout} ms`))
        }, timeout)
        channel.onmessage = (event: MessageEvent<unknown>) => {
          clearTimeout(timer)
          channel.close()
          resolve(event.data)
        }
      }),
    { name, timeout: UI_TIMEOUT },
  )
}

/** The tabs share in the group `name` only: both connections' locks carry it, and the leader talks on channels of those names. */
async function expectGroupsNamed(tabs: Page[], name: string): Promise<void> {
  const named = await groups(tabs[0]!)
  expect(named).toHaveLength(2)
  for (const group of named) expect(group).toMatch(groupOf(name))
  // Every lock of the tab-sharing code is in those groups: none in a group without the name.
  const locks = await tabLocks(tabs[0]!)
  for (const lock of locks) expect(named.some((group) => lock === group || lock.startsWith(`${group} tab `) || lock.startsWith(`${group} term `)), lock).toBe(true)
  // Each group's leader holds the lock that names its term (a tab that steals the lead reads it: see the tabs guide).
  for (const group of named) expect(locks.some((lock) => new RegExp(`^${literal(group)} term \\d+$`).test(lock)), `${group} term <epoch>`).toBe(true)
  // The follower hears the leader on the channel of each group's name.
  for (const group of named) expect(await firstMessageOn(tabs[1]!, group)).toMatchObject({ t: expect.any(String), from: expect.any(String) })
}

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
    await expectGroupsNamed(tabs, BUILD_NAME)
    // The channel's connection and the plain socket: two sockets for two tabs, not four.
    expect(await $fetch<{ clients: number }>('/api/realtime')).toMatchObject({ clients: 2 })
    await tabs[1]!.getByTestId('publish').click()
    await expect.poll(() => text(tabs[1]!, 'acked'), { timeout: UI_TIMEOUT }).toMatch(/^seq \d+$/)
    await expect.poll(() => tabs[0]!.getByTestId('messages').locator('li').count(), { timeout: UI_TIMEOUT }).toBeGreaterThan(0)
    expect(problems).toEqual([])
    await close()
  })

  it('NUXT_PUBLIC_REALTIME_SHARE_ACROSS_TABS_NAME names the group at deploy time, without a rebuild (a numeric name too)', async () => {
    // Nuxt parses the variable into the number 2026; the group is named by the string.
    await startServer({ env: { NUXT_PUBLIC_REALTIME_SHARE_ACROSS_TABS_NAME: '2026' } })
    const { tabs, problems, close } = await twoTabs()
    await expect.poll(() => Promise.all(tabs.map((p) => text(p, 'role'))), { timeout: UI_TIMEOUT }).toEqual(['leader', 'follower'])
    await expectGroupsNamed(tabs, '2026')
    await expect.poll(() => $fetch<{ clients: number }>('/api/realtime'), { timeout: UI_TIMEOUT }).toMatchObject({ clients: 2 })
    expect(problems).toEqual([])
    await close()
  })

  it('NUXT_PUBLIC_REALTIME_SHARE_ACROSS_TABS=false gives each tab its own sockets, without a rebuild', async () => {
    await startServer({ env: { NUXT_PUBLIC_REALTIME_SHARE_ACROSS_TABS: 'false' } })
    const { tabs, problems, close } = await twoTabs()
    expect(await Promise.all(tabs.map((p) => text(p, 'role')))).toEqual(['solo', 'solo'])
    await expect.poll(() => $fetch<{ clients: number }>('/api/realtime'), { timeout: UI_TIMEOUT }).toMatchObject({ clients: 4 })
    // No tab joined a group, named or not.
    expect(await tabLocks(tabs[0]!)).toEqual([])
    expect(problems).toEqual([])
    await close()
  })
})
