// Shared by the Nuxt e2e tests (nuxt.e2e.test.ts, nuxt-dev.e2e.test.ts, nuxt-tabs.e2e.test.ts).
import { execFileSync } from 'node:child_process'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createPage, setup, url, useTestContext } from '@nuxt/test-utils/e2e'
import type { Page } from 'playwright-core'
import { expect } from 'vitest'
import { PROTOCOL } from '../../src/core/protocol'
import { connect, open as openSocket } from '../server/helpers'
import { CHROMIUM, CHROMIUM_ARGS, ROOT, UI_TIMEOUT } from './helpers'

/** What the module's protocol server saw (the fixture's /api/realtime). */
export interface Seen {
  accepted: number
  clients: number
}

/** A string only the tab-sharing code carries (its lock and channel names, src/core/tabs/wire.ts). */
export const TAB_SHARING_MARKER = 'vue-realtime.tabs.v'

/** Every script of the fixture's client build, concatenated: what browsers can download. */
export async function clientScripts(): Promise<string> {
  const nuxt = useTestContext().nuxt
  if (!nuxt) throw new Error('clientScripts() needs the fixture built by setup() in this process.')
  // Typed only where the app's Nitro types are loaded (Nuxt 4 keeps them in @nuxt/nitro-server).
  const { nitro } = nuxt.options as unknown as { nitro: { output: { dir: string } } }
  const dir = join(nitro.output.dir, 'public', '_nuxt')
  const files = (await readdir(dir)).filter((file) => file.endsWith('.js'))
  if (files.length === 0) throw new Error(`no client scripts in ${dir}`)
  return (await Promise.all(files.map((file) => readFile(join(dir, file), 'utf8')))).join('\n')
}

/** Records a page's errors, warnings and hydration messages into `problems`. */
export function watchConsole(page: Page, problems: string[]): void {
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`))
  page.on('console', (message) => {
    // Under /sub/ the browser still asks the origin's root for /favicon.ico: not the app's.
    if (/favicon\.ico/.test(message.text())) return
    if (message.type() === 'error' || message.type() === 'warning' || /hydrat|mismatch/i.test(message.text())) {
      problems.push(`${message.type()}: ${message.text()}`)
    }
  })
}

/**
 * Builds the package and the fixture app (test/nuxt/fixture) on it, as the tarball ships it
 * (dist), with `shareAcrossTabs: { name: tabs }` for a `tabs` name, and runs it as its
 * production server for Debian's Chromium; with `dev`, runs it under `nuxi dev` instead (no
 * build of the app: Vite serves it, Nitro's dev server runs the route). Call at the top level of
 * a test file (it registers the file's hooks).
 */
export async function setupNuxtFixture({ tabs, dev = false }: { tabs?: string; dev?: boolean } = {}): Promise<void> {
  execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore', timeout: 180_000 })
  process.env.VUE_REALTIME_FROM = 'dist'
  if (tabs) process.env.VUE_REALTIME_TABS = tabs
  await setup({
    rootDir: fileURLToPath(new URL('../nuxt/fixture', import.meta.url)),
    dev,
    browser: true,
    browserOptions: { type: 'chromium', launch: { executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30_000 } },
    setupTimeout: 300_000,
    env: { NUXT_TELEMETRY_DISABLED: '1' },
  })
}

/**
 * Records the text of every script the page runs into `scripts`; Nuxt also prefetches the app's
 * lazy chunks (resource type 'other'), which downloads but never runs them.
 */
export function recordScripts(page: Page, scripts: Array<Promise<string>>): void {
  page.on('response', (response) => {
    if (response.request().resourceType() === 'script') scripts.push(response.text())
  })
}

/** Opens `path` after hydration, recording console problems and the scripts the page downloads. */
export async function openPage(path: string): Promise<{ page: Page; problems: string[]; scripts: Array<Promise<string>> }> {
  const problems: string[] = []
  const scripts: Array<Promise<string>> = []
  const page = await createPage()
  page.setDefaultTimeout(UI_TIMEOUT)
  watchConsole(page, problems)
  recordScripts(page, scripts)
  await page.goto(url(path), { waitUntil: 'hydration' })
  return { page, problems, scripts }
}

/** The text of the element with `data-testid` `id`. */
export const text = (page: Page, id: string) => page.getByTestId(id).textContent()

/** Waits until the fixture's page is connected, publishes, and waits for the ack and the message. */
export async function publishThrough(page: Page): Promise<void> {
  await expect.poll(() => text(page, 'channel-status'), { timeout: UI_TIMEOUT }).toBe('open')
  await expect.poll(() => text(page, 'socket-status'), { timeout: UI_TIMEOUT }).toBe('open')
  await expect.poll(() => text(page, 'store-open'), { timeout: UI_TIMEOUT }).toBe('2')
  await page.getByTestId('publish').click()
  await expect.poll(() => text(page, 'acked'), { timeout: UI_TIMEOUT }).toMatch(/^seq \d+$/)
  await expect.poll(() => page.getByTestId('messages').locator('li').count(), { timeout: UI_TIMEOUT }).toBeGreaterThan(0)
}

/**
 * Checks, with raw sockets on the running fixture's route, each option of its
 * server/realtime.config.ts: a token "refused" is closed with 4401, another origin with 4403,
 * `private:` topics are forbidden, `whoami` answers the user.
 */
export async function checkServerConfig(): Promise<void> {
  const route = url('/_realtime').replace(/^http/, 'ws')
  const refused = await openSocket(route, [PROTOCOL, 'vue-realtime.token.refused'])
  expect((await refused.closed).code).toBe(4401)
  const elsewhere = await openSocket(route, [PROTOCOL], { origin: 'http://elsewhere.example' })
  expect((await elsewhere.closed).code).toBe(4403)

  const ada = await connect(route, [PROTOCOL, 'vue-realtime.token.ada'], { origin: new URL(url('/')).origin })
  ada.send({ type: 'request', id: 1, method: 'whoami' })
  expect(await ada.waitType('response', (frame) => frame.id === 1)).toMatchObject({ data: { name: 'ada' } })
  ada.send({ type: 'subscribe', topic: 'private:ada' })
  expect(await ada.waitType('error', (frame) => frame.topic === 'private:ada')).toMatchObject({ code: 'forbidden', frame: 'subscribe' })
  await ada.subscribe('room:nuxt')
  await ada.close()
}
