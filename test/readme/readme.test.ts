/**
 * The README's code blocks, checked without building anything: the shell commands it shows
 * exist, and every TypeScript/Vue block maps to a file of the consumer app. Compiling and
 * running those files against the packed library is the consumer tier's job
 * (test/consumers: types.test.ts, runtime.test.ts, browser.test.ts).
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { blockPath, compiledBlocks, readmeBlocks, readmeFiles } from './blocks'
import { README_CONTEXT } from './context'

const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  name: string
  scripts: Record<string, string>
}

describe('README.md', () => {
  const blocks = readmeBlocks()

  it('opens with the install line for users, then the demo and test commands for contributors', () => {
    const shell = blocks.filter((b) => b.lang === 'sh')
    expect(shell[0]?.section).toBe('top')
    expect(shell[0]?.code.trim()).toBe(`npm install ${manifest.name}`)
    const commands = shell[1]!.code
      .trim()
      .split('\n')
      .map((line) => line.replace(/#.*$/, '').trim())
    expect(commands).toEqual(['npm run demo', 'npm test'])
  })

  it('shows only npm scripts that exist', () => {
    const scripts = blocks
      .filter((b) => b.lang === 'sh')
      .flatMap((b) => [...b.code.matchAll(/npm (?:run ([\w:-]+)|(test)\b)/g)].map((m) => m[1] ?? m[2]!))
    expect(scripts.length).toBeGreaterThan(0)
    for (const script of scripts) expect(manifest.scripts, `npm run ${script}`).toHaveProperty(script)
  })

  it('puts every TypeScript and Vue block in a file of the consumer app, each once', () => {
    const compiled = compiledBlocks(blocks)
    expect(compiled.map((b) => b.section)).toEqual(expect.arrayContaining(['top', 'quick-start', 'channels']))
    const files = readmeFiles(compiled)
    for (const block of compiled) expect(files.get(blockPath(block))).toContain(block.code.trim())
    // The Quick start's Ticker and main.ts keep the names they import each other by.
    expect(compiled.filter((b) => b.section === 'quick-start').map((b) => b.file)).toEqual(['main.ts', 'Ticker.vue', 'block-3.ts'])
    // The server example is a Node program (nodenext), the Quick start browser code (bundler).
    expect(compiled.filter((b) => blockPath(b).startsWith('server/')).map((b) => b.section)).toContain('channels')
  })

  it('has a context only for blocks that exist', () => {
    const ids = new Set(compiledBlocks(blocks).map((b) => `${b.section}#${b.index}`))
    for (const id of Object.keys(README_CONTEXT)) expect(ids, `README_CONTEXT['${id}']`).toContain(id)
  })
})
