/**
 * The tarball itself: what it ships, its package.json, and the linters users' tools trust
 * (@arethetypeswrong/cli, publint).
 */
import { existsSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { run } from './exec'
import { INSTALLED, ROOT, TARBALL } from './paths'

const bin = (name: string): string => join(ROOT, 'node_modules/.bin', name)
interface Manifest {
  license?: string
  homepage?: string
  repository?: { url?: string }
  bugs?: { url?: string }
  dependencies?: Record<string, string>
  peerDependencies?: Record<string, string>
  peerDependenciesMeta?: Record<string, { optional?: boolean }>
  exports: Record<string, string | Record<string, string>>
}
const manifest = JSON.parse(readFileSync(join(INSTALLED, 'package.json'), 'utf8')) as Manifest

describe('the tarball', () => {
  it('ships dist, docs, README, LICENSE and package.json; no screenshot', async () => {
    const { stdout } = await run('tar', ['-tzf', TARBALL], { cwd: ROOT })
    const files = stdout.trim().split('\n').map((f) => f.replace(/^package\//, ''))
    expect(files).toEqual(expect.arrayContaining(['package.json', 'README.md', 'LICENSE', 'dist/index.js', 'dist/index.d.ts', 'docs/protocol.md']))
    expect(files.filter((f) => /\.(png|jpe?g|gif|webp)$/i.test(f))).toEqual([])
    expect(files.filter((f) => !/^(dist\/|docs\/|package\.json$|README\.md$|LICENSE$)/.test(f))).toEqual([])
    expect(readFileSync(join(INSTALLED, 'LICENSE'), 'utf8')).toMatch(/^MIT License/)
    console.info(`packed: ${(statSync(TARBALL).size / 1000).toFixed(1)} kB, ${files.length} files`)
  })

  it('lines up every JS file with its declarations, and keeps sourcemaps with embedded sources', async () => {
    const { stdout } = await run('tar', ['-tzf', TARBALL], { cwd: ROOT })
    const js = stdout.split('\n').filter((f) => /^package\/dist\/.*\.js$/.test(f))
    expect(js.length).toBeGreaterThan(4)
    for (const file of js) {
      const path = join(INSTALLED, file.replace(/^package\//, ''))
      expect(existsSync(path.replace(/\.js$/, '.d.ts')), `${file} has a .d.ts beside it`).toBe(true)
    }
    const maps = js.map((f) => join(INSTALLED, f.replace(/^package\//, '') + '.map')).filter((f) => existsSync(f))
    expect(maps.length).toBeGreaterThan(0)
    for (const map of maps) {
      const { sources, sourcesContent } = JSON.parse(readFileSync(map, 'utf8')) as { sources: string[]; sourcesContent?: (string | null)[] }
      expect(sourcesContent?.length, `${map} embeds its sources`).toBe(sources.length)
      expect(sourcesContent!.every((s) => typeof s === 'string' && s.length > 0)).toBe(true)
    }
  })

  it('declares its entries, peers and links as users need them', () => {
    expect(manifest.license).toBe('MIT')
    expect(manifest.repository?.url).toMatch(/^git\+https:\/\/github\.com\//)
    expect(manifest.homepage).toMatch(/^https:\/\//)
    expect(manifest.bugs?.url).toMatch(/^https:\/\//)
    // No dependencies at all: a browser app installs nothing but vue (and unpacking is installing).
    expect(manifest.dependencies).toBeUndefined()
    // better-sqlite3 12: 13 does not run on Node 20.
    expect(manifest.peerDependencies).toMatchObject({ vue: expect.any(String), pinia: expect.stringContaining('^4.0.0'), ws: expect.any(String), redis: expect.any(String), 'better-sqlite3': '^12.0.0' })
    expect(manifest.peerDependenciesMeta).toEqual({ pinia: { optional: true }, ws: { optional: true }, redis: { optional: true }, 'better-sqlite3': { optional: true }, nuxt: { optional: true }, '@nuxt/kit': { optional: true } })
    for (const [entry, target] of Object.entries(manifest.exports)) {
      for (const file of typeof target === 'string' ? [target] : Object.values(target)) {
        expect(existsSync(join(INSTALLED, file)), `${entry} → ${file} is in the tarball`).toBe(true)
      }
    }
  })

  it('passes @arethetypeswrong/cli (ESM-only profile: bundler, node16 and nodenext from ESM)', async () => {
    const result = await run(bin('attw'), [TARBALL, '--profile', 'esm-only', '--format', 'json'], { cwd: ROOT, allowFailure: true })
    const report = JSON.parse(result.stdout) as { analysis: { problems: unknown[]; entrypoints: Record<string, unknown> } }
    expect(Object.keys(report.analysis.entrypoints).sort()).toEqual(['.', './core', './nuxt', './package.json', './pinia', './server', './server/crossws'])
    // node10 and require() are outside the profile; every other problem fails.
    const problems = (report.analysis.problems as { kind: string; resolutionKind?: string }[]).filter(
      (p) => p.resolutionKind !== 'node10' && p.resolutionKind !== 'node16-cjs',
    )
    expect(problems).toEqual([])
    expect(result.code).toBe(0)
  })

  it('passes publint --strict', async () => {
    const result = await run(bin('publint'), [TARBALL, '--strict'], { cwd: ROOT, allowFailure: true })
    expect(result.stdout + result.stderr).toContain('All good!')
    expect(result.code).toBe(0)
  })
})
