/** Where the consumer tier builds, packs and installs (see setup.ts). */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))
/** The create-vite vue-ts consumer app (a workspace: its pinned dependencies come with the root's `npm ci`). */
export const APP = join(ROOT, 'test/consumers/app')
/** Scratch space: the tarball, transpiled README programs. */
export const TMP = join(ROOT, 'test/consumers/.tmp')
const { name, version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string }
/** What `npm pack` writes. */
export const TARBALL = join(TMP, `${name}-${version}.tgz`)
/** The package as installed in the consumer app. */
export const INSTALLED = join(APP, 'node_modules', name)
/** The Nuxt 4 consumer app; nuxt, vue and pinia resolve from the root's node_modules. */
export const NUXT_APP = join(ROOT, 'test/consumers/nuxt')
/** The package as installed in the Nuxt app. */
export const NUXT_INSTALLED = join(NUXT_APP, 'node_modules', name)
