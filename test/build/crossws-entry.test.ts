// `vue-realtime/server/crossws` must load in a Nitro app that has no `ws`: nothing behind it imports it.
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { describe, expect, it } from 'vitest'

const entry = (path: string) => fileURLToPath(new URL(`../../src/${path}`, import.meta.url))

async function importsOf(path: string): Promise<string[]> {
  const result = await build({ entryPoints: [entry(path)], bundle: true, platform: 'node', format: 'esm', write: false, metafile: true, packages: 'external', loader: { '.lua': 'text' }, logLevel: 'silent' })
  return Object.values(result.metafile.inputs).flatMap((input) => input.imports.filter((i) => i.external).map((i) => i.path))
}

describe('the crossws entry', () => {
  it('imports neither ws nor crossws; the ws entry does import ws (so the check can see it)', async () => {
    const crossws = await importsOf('server/crossws-entry.ts')
    expect(crossws).not.toContain('ws')
    expect(crossws.filter((path) => path.startsWith('crossws'))).toEqual([])
    expect(await importsOf('server/index.ts')).toContain('ws')
  })
})
