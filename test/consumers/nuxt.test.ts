/**
 * The packed tarball in a Nuxt 4 app (test/consumers/nuxt), unpacked into its node_modules as
 * npm installs it: nuxt.config lists `vue-realtime/nuxt`, which resolves through the package's
 * `exports`, with `realtime: { server: true }` and the options in server/realtime.config.ts.
 * The app and its Nitro code typecheck (strict, project references as create-nuxt writes them)
 * against the installed declarations, with type probes, also where the app does not list the
 * package itself; the production build runs for Debian's Chromium: the
 * server render shows `idle`, the page hydrates without a mismatch, a publish is acked through
 * the module's route, and the options file's `authorize` and `onRequest` apply.
 */
import { cp, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { $fetch, createPage, setup, url } from '@nuxt/test-utils/e2e'
import { describe, expect, it } from 'vitest'
import { CHROMIUM, CHROMIUM_ARGS, UI_TIMEOUT } from '../e2e/helpers'
import { watchConsole } from '../e2e/nuxt-helpers'
import { run } from './exec'
import { NUXT_APP, NUXT_INSTALLED, ROOT, TMP } from './paths'

await setup({
  rootDir: NUXT_APP,
  browser: true,
  browserOptions: { type: 'chromium', launch: { executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30_000 } },
  setupTimeout: 300_000,
  env: { NUXT_TELEMETRY_DISABLED: '1' },
})

/** `vue-tsc -b` in a Nuxt app whose types `nuxi prepare` wrote, as create-nuxt's `nuxi typecheck` runs it. */
async function typecheck(app: string): Promise<void> {
  const result = await run(process.execPath, [join(ROOT, 'test/consumers/vue-tsc.cjs'), '-b', '--force', '--pretty', 'false'], {
    cwd: app,
    env: { ...process.env, TSC_FROM: ROOT },
    allowFailure: true,
  })
  expect(`${result.stdout}${result.stderr}`.replace(/^vue-tsc with typescript .*\n/m, ''), 'vue-tsc -b reports no error').toBe('')
  expect(result.code).toBe(0)
}

describe('the packed tarball in a Nuxt app', () => {
  it('is the installed package, not the sources: the module and its runtime come from node_modules/vue-realtime/dist', async () => {
    const types = await readFile(join(NUXT_APP, '.nuxt/types/vue-realtime-server-config.d.ts'), 'utf8')
    expect(types).toContain(join(NUXT_INSTALLED, 'dist/nuxt/runtime/server/config'))
    const imports = await readFile(join(NUXT_APP, '.nuxt/types/nitro-imports.d.ts'), 'utf8')
    expect(imports).toMatch(/useRealtimeServer.*node_modules\/vue-realtime\/dist\/nuxt\/runtime\/server\/instance/)
    expect(imports).not.toContain('/src/')
  })

  it('typechecks, the app and its Nitro code (vue-tsc -b, strict), with the type probes of probes.ts and server/probes.ts', async () => {
    await typecheck(NUXT_APP)
  })

  it("typechecks also where the app does not list vue-realtime in its package.json (a layer brings it)", async () => {
    // Nuxt writes the auto-imports' types of an unlisted package as paths into its node_modules,
    // where `vue-realtime/pinia` (an `exports` subpath) did not resolve: the store was `any`.
    const app = join(TMP, 'nuxt-unlisted')
    await rm(app, { recursive: true, force: true })
    await cp(NUXT_APP, app, { recursive: true, filter: (from) => !/[/\\]\.(nuxt|output)$/.test(from) })
    const manifest = JSON.parse(await readFile(join(app, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }
    delete manifest.dependencies['vue-realtime']
    await writeFile(join(app, 'package.json'), JSON.stringify(manifest, null, 2))
    await run('npx', ['nuxi', 'prepare'], { cwd: app, env: { ...process.env, NUXT_TELEMETRY_DISABLED: '1' } })
    await typecheck(app)
    const imports = await readFile(join(app, '.nuxt/types/imports.d.ts'), 'utf8')
    expect(imports).toContain("typeof import('../../node_modules/vue-realtime/dist/pinia/index').useRealtimeStore")
  })

  it('renders idle on the server, hydrates, publishes through the module route, and applies server/realtime.config.ts', async () => {
    const html = await $fetch<string>('/')
    expect(html).toContain('data-testid="channel-status">idle<')
    expect(html).toContain('data-testid="socket-status">idle<')
    const problems: string[] = []
    const page = await createPage()
    page.setDefaultTimeout(UI_TIMEOUT)
    watchConsole(page, problems)
    await page.goto(url('/'), { waitUntil: 'hydration' })
    const text = (id: string) => page.getByTestId(id).textContent()
    await expect.poll(() => text('subscribed'), { timeout: UI_TIMEOUT }).toBe('true')
    await expect.poll(() => text('store-open'), { timeout: UI_TIMEOUT }).toBe('2')
    await page.getByTestId('publish').click()
    await expect.poll(() => text('acked'), { timeout: UI_TIMEOUT }).toMatch(/^seq \d+$/)
    await expect.poll(() => page.getByTestId('messages').locator('li').allTextContents(), { timeout: UI_TIMEOUT }).toEqual(['hello 1'])
    // The options file: onRequest answers who the page is (authenticate let it in as the guest),
    // authorize refuses the private topic.
    await page.getByTestId('whoami').click()
    await expect.poll(() => text('user'), { timeout: UI_TIMEOUT }).toBe('guest')
    await expect.poll(() => text('private-error'), { timeout: UI_TIMEOUT }).toMatch(/Not allowed to subscribe to "private:nuxt"/)
    expect(problems).toEqual([])
    await page.close()
  })
})
