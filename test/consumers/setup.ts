/**
 * Global setup of the consumer tier: build the library, `npm pack` it, install the tarball into
 * the consumer apps (create-vite's and Nuxt's), and write the code blocks of the README and of the docs site (test/docs/blocks.ts)
 * into the app. Offline: the app's own
 * dependencies were installed by the root's `npm ci` (it is a workspace), and the tarball has no
 * dependencies, so installing it is unpacking it where npm would (the tier checks both).
 */
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { writeDocsFiles } from '../docs/blocks'
import { readmeFiles } from '../readme/blocks'
import { run } from './exec'
import { APP, INSTALLED, NUXT_APP, NUXT_INSTALLED, ROOT, TARBALL, TMP } from './paths'

export default async function setup(): Promise<void> {
  await run('npm', ['run', 'build'], { cwd: ROOT })
  await rm(TMP, { recursive: true, force: true })
  await mkdir(TMP, { recursive: true })
  await run('npm', ['pack', '--pack-destination', TMP], { cwd: ROOT })

  for (const installed of [INSTALLED, NUXT_INSTALLED]) {
    await rm(installed, { recursive: true, force: true })
    await mkdir(installed, { recursive: true })
    await run('tar', ['-xzf', TARBALL, '-C', installed, '--strip-components=1'], { cwd: ROOT })
  }
  for (const dir of ['.nuxt', '.output']) await rm(join(NUXT_APP, dir), { recursive: true, force: true })
  // What create-nuxt's postinstall does after `npm install`: the types and tsconfigs in .nuxt/.
  await run('npx', ['nuxi', 'prepare'], { cwd: NUXT_APP, env: { ...process.env, NUXT_TELEMETRY_DISABLED: '1' } })

  for (const dir of ['src/readme', 'server/readme', 'dist', 'node_modules/.vite', 'node_modules/.tmp']) {
    await rm(join(APP, dir), { recursive: true, force: true })
  }
  for (const [path, text] of readmeFiles()) {
    await mkdir(dirname(join(APP, path)), { recursive: true })
    await writeFile(join(APP, path), text)
  }
  // The docs' Nuxt blocks are the Nuxt fixture's (test/nuxt/fixture/nuxt.config.ts).
  writeDocsFiles(APP, ['browser', 'node', 'ssr'])
}
