// Shared by the Nuxt e2e tests (nuxt.e2e.test.ts, nuxt-tabs.e2e.test.ts).
import { execFileSync } from 'node:child_process'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { setup, useTestContext } from '@nuxt/test-utils/e2e'
import type { Page } from 'playwright-core'
import { CHROMIUM, CHROMIUM_ARGS, ROOT } from './helpers'

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
 * production server for Debian's Chromium. Call at the top level of a test file (it registers
 * the file's hooks).
 */
export async function setupNuxtFixture({ tabs }: { tabs?: string } = {}): Promise<void> {
  execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore', timeout: 180_000 })
  process.env.VUE_REALTIME_FROM = 'dist'
  if (tabs) process.env.VUE_REALTIME_TABS = tabs
  await setup({
    rootDir: fileURLToPath(new URL('../nuxt/fixture', import.meta.url)),
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
