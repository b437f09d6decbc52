/**
 * The consumer app typechecked the way create-vite's `npm run build` does (`vue-tsc -b`), with
 * `skipLibCheck: false` so the package's own declarations are checked, every entry under every
 * resolution users have:
 *
 * | tsconfig | resolution | what |
 * |---|---|---|
 * | app | bundler | the app, `src/probes.ts` (`vue-realtime`, `/pinia`, `/core`), the README's and the docs' browser blocks |
 * | node (create-vite's) | nodenext | vite.config.ts, `server/` (`/server`, `/core`), the README's and the docs' Node programs |
 * | node16, node-bundler | node16, bundler | `server/` again |
 * | ssr, ssr16 | nodenext, node16 | `ssr/` (`vue-realtime`, `/pinia` in server-side code), the docs' server-rendering blocks |
 *
 * The probes are `@ts-expect-error` lines: a type that collapses to `any` leaves one unused and
 * fails the build. Under TypeScript 5.9 (the root's) and 6.0 (create-vite's default, the app's).
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { docsFiles } from '../docs/blocks'
import { readmeFiles } from '../readme/blocks'
import { run } from './exec'
import { APP, ROOT } from './paths'

const VUE_TSC = join(ROOT, 'test/consumers/vue-tsc.cjs')

async function typecheck(tscFrom: string): Promise<string> {
  const result = await run(process.execPath, [VUE_TSC, '-b', '--force', '--pretty', 'false'], {
    cwd: APP,
    env: { ...process.env, TSC_FROM: tscFrom },
    allowFailure: true,
  })
  const output = `${result.stdout}${result.stderr}`
  expect(output.replace(/^vue-tsc with typescript .*\n/m, ''), 'vue-tsc -b reports no error').toBe('')
  expect(result.code).toBe(0)
  return output
}

describe('the consumer app typechecks against the packed package', () => {
  it("holds the README's and the docs' code blocks (written by setup.ts)", () => {
    const paths = [...readmeFiles().keys(), ...docsFiles(['browser', 'node', 'ssr']).keys()]
    expect(paths.filter((path) => path.startsWith('ssr/docs/')).length).toBeGreaterThan(0)
    expect(paths.filter((path) => !existsSync(join(APP, path)))).toEqual([])
  })

  it('under TypeScript 5.9', async () => {
    expect(await typecheck(ROOT)).toMatch(/typescript 5\.9\./)
  })

  it('under TypeScript 6.0 (create-vite vue-ts default)', async () => {
    expect(await typecheck(APP)).toMatch(/typescript 6\.0\./)
  })
})
