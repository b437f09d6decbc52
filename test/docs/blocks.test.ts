/**
 * The docs site's code blocks, checked without building anything: every block of the checked
 * pages is compiled, JSON data, or marked `<!-- not compiled: reason -->`, so a new block cannot
 * slip through unchecked; every compiled block maps to a file of the app that typechecks it;
 * JSON blocks parse; the snippets the testing guide imports from the test suite exist; the
 * shell blocks name npm scripts that exist. Compiling the files is the job of the consumer tier
 * (test/consumers/types.test.ts: browser, Node and SSR blocks against the packed tarball) and of
 * `npm run test:nuxt-types` (Nuxt and Nitro blocks in the Nuxt fixture).
 */
import { existsSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { DOCS_CONTEXT } from './context'
import { DOCS, blockId, blockPath, compiledBlocks, docsBlocks, docsFiles, docsPages, kind, pageBlocks, target, where, type DocsBlock } from './blocks'

const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> }
const tsconfig = JSON.parse(readFileSync(new URL('../../tsconfig.json', import.meta.url), 'utf8')) as { include: string[] }

/** The JSON values of a block: one frame, or several one after another. */
function jsonValues(text: string): unknown[] {
  const values: unknown[] = []
  let rest = text.trim()
  while (rest) {
    let end = 0
    for (;;) {
      end = rest.slice(end).search(/[}\]]/) + end + 1
      if (end === 0) throw new SyntaxError(`not JSON: ${rest.slice(0, 80)}`)
      try {
        values.push(JSON.parse(rest.slice(0, end)))
        break
      } catch {
        if (end >= rest.length) throw new SyntaxError(`not JSON: ${rest.slice(0, 80)}`)
      }
    }
    rest = rest.slice(end).trim()
  }
  return values
}

describe('the docs pages', () => {
  const blocks = docsBlocks()

  it('checks the landing page, the protocol and every guide page', () => {
    expect(docsPages()).toEqual(expect.arrayContaining(['index.md', 'protocol.md', 'guide/getting-started.md', 'guide/channels.md', 'guide/ssr-nuxt.md']))
    expect(compiledBlocks(['browser', 'node', 'ssr', 'nuxt', 'nitro'], blocks).length).toBeGreaterThan(25)
  })

  it('has no block that is neither compiled, JSON data nor marked with the reason it is not compiled', () => {
    const unchecked = blocks.filter((b) => kind(b) === 'unchecked').map((b) => `${where(b)} (\`\`\`${b.lang})`)
    expect(
      unchecked,
      'Give each block a language: ts, js or vue (compiled: see test/docs/blocks.ts; a fragment gets its imports in test/docs/context.ts), json, or put `<!-- not compiled: <reason> -->` on the line before the fence',
    ).toEqual([])
  })

  it('tells a new unmarked block from a compiled or marked one', () => {
    const page = [
      '# A page',
      '## Usage',
      '```ts',
      'const a = 1',
      '```',
      '<!-- not compiled: a shell command -->',
      '```sh',
      'npm test',
      '```',
      '```sh',
      'npm test',
      '```',
      '```',
      'plain text',
      '```',
      '```tsx',
      'const b = <p />',
      '```',
      '<!-- not compiled: -->',
      '```ts',
      'const c = 1',
      '```',
      '   ```vue',
      '   <template><p /></template>',
      '   ```',
      '```js',
      'export const d = 1',
      '```',
    ].join('\n')
    const found = pageBlocks('guide/new.md', page)
    expect(found.map((b) => [b.lang, kind(b)])).toEqual([
      ['ts', 'compiled'],
      ['sh', 'marked'],
      ['sh', 'unchecked'],
      ['', 'unchecked'],
      ['tsx', 'unchecked'],
      ['ts', 'unchecked'], // a marker needs its reason
      ['vue', 'compiled'], // indented (in a list) counts too
      ['js', 'compiled'],
    ])
    expect(found[1]!.notCompiled).toBe('a shell command')
    expect(found.map((b) => b.line)).toEqual([3, 7, 10, 13, 16, 20, 23, 26])
    // JavaScript is checked as JavaScript (allowJs, checkJs in the consumer app).
    expect(found.filter((b) => kind(b) === 'compiled').map(blockPath)).toEqual(['src/docs/new/usage/block-1.ts', 'src/docs/new/usage/block-7.vue', 'src/docs/new/usage/block-8.js'])
  })

  it('puts every compiled block in a file of the app that typechecks it, each once', () => {
    const compiled = compiledBlocks(['browser', 'node', 'ssr', 'nuxt', 'nitro'], blocks)
    const files = new Map([...docsFiles(['browser', 'node', 'ssr'], blocks), ...docsFiles(['nuxt', 'nitro'], blocks)])
    for (const block of compiled) {
      const prelude = DOCS_CONTEXT[blockId(block)]?.prelude ?? ''
      expect(files.get(blockPath(block))?.replace(prelude, ''), where(block)).toContain(block.code.trim())
    }
    const byTarget = (t: string): string[] => compiled.filter((b) => target(b) === t).map(blockId)
    // Node programs (nodenext), server rendering, Nuxt config and components, Nitro routes.
    expect(byTarget('node')).toEqual(expect.arrayContaining(['server/top#1', 'server/sqlite#1', 'server/scaling-out#1', 'getting-started/node#1', 'channels/tokens#2', 'security/upgrades-that-never-finish#1']))
    expect(byTarget('ssr')).toEqual(['ssr-nuxt/server-rendering-with-vue#1'])
    expect(byTarget('nuxt')).toEqual(['ssr-nuxt/nuxt#1', 'ssr-nuxt/nuxt#2', 'ssr-nuxt/the-protocol-server-on-a-nitro-route#1', 'tabs/in-nuxt#1', 'tabs/in-nuxt#2'])
    expect(byTarget('nitro')).toEqual(['ssr-nuxt/the-protocol-server-on-a-nitro-route#2', 'ssr-nuxt/the-protocol-server-on-a-nitro-route#3', 'ssr-nuxt/the-protocol-server-on-a-nitro-route#4'])
    expect(byTarget('browser')).toEqual(expect.arrayContaining(['index/try-it-in-the-page#1', 'getting-started/a-first-connection#2', 'connection/reconnect#1', 'tabs/testing#1']))
    // Named files keep their names, so the page's main.ts imports its App.vue and Prices.vue.
    const start = compiled.filter((b) => b.page === 'guide/getting-started.md' && b.section === 'a-first-connection').map(blockPath)
    expect(start).toEqual(['src/docs/getting-started/a-first-connection/main.ts', 'src/docs/getting-started/a-first-connection/Prices.vue'])
    expect(files.get('server/docs-blocks/ssr-nuxt/the-protocol-server-on-a-nitro-route/api/orders.post.ts')).toContain('useRealtimeServer()')
  })

  it('has a context only for compiled blocks that exist', () => {
    const ids = new Set(blocks.filter((b) => kind(b) === 'compiled').map(blockId))
    for (const id of Object.keys(DOCS_CONTEXT)) expect(ids, `DOCS_CONTEXT['${id}']`).toContain(id)
  })

  it('shows JSON that parses: protocol frames, each an object with its type', () => {
    const data = blocks.filter((b) => kind(b) === 'data')
    expect(data.length).toBeGreaterThan(0)
    for (const block of data) {
      const values = (() => {
        try {
          return jsonValues(block.code)
        } catch (error) {
          throw new Error(`${where(block)}: ${String(error)}`)
        }
      })()
      expect(values.length, where(block)).toBeGreaterThan(0)
      if (block.page === 'protocol.md') for (const value of values) expect(value, where(block)).toMatchObject({ type: expect.any(String) })
    }
  })

  it('imports snippets (<<<) only from typechecked files, by regions that exist', () => {
    const snippets = docsPages().flatMap((page) =>
      [...readFileSync(`${DOCS}${page}`, 'utf8').matchAll(/^<<<\s+@\/(\S+?)(?:#([\w-]+))?(?:\{\w+\})?\s*$/gm)].map((m) => ({ page, file: m[1]!, region: m[2] })),
    )
    expect(snippets.length).toBeGreaterThan(0)
    for (const { page, file, region } of snippets) {
      const path = `${DOCS}${file}`
      expect(existsSync(path), `docs/${page}: ${file}`).toBe(true)
      // `@/` is docs/: the file must be in the root tsconfig (npm run typecheck) and run by vitest.
      const fromRoot = file.replace(/^\.\.\//, '')
      expect(tsconfig.include.some((dir) => fromRoot.startsWith(`${dir}/`)), `docs/${page}: ${file} is typechecked`).toBe(true)
      expect(fromRoot, `docs/${page}: ${file} runs in the unit tier`).toMatch(/^test\/.*\.test\.ts$/)
      if (region) {
        const text = readFileSync(path, 'utf8')
        expect(text, `docs/${page}: region ${region} of ${file}`).toContain(`// #region ${region}\n`)
        expect(text, `docs/${page}: region ${region} of ${file}`).toContain(`// #endregion ${region}\n`)
      }
    }
  })

  it('shows only npm scripts that exist', () => {
    const shell = blocks.filter((b: DocsBlock) => b.lang === 'sh')
    expect(shell.length).toBeGreaterThan(0)
    const scripts = shell.flatMap((b) => [...b.code.matchAll(/npm (?:run ([\w:-]+)|(test)\b)/g)].map((m) => ({ script: m[1] ?? m[2]!, at: where(b) })))
    for (const { script, at } of scripts) expect(manifest.scripts, `${at}: npm run ${script}`).toHaveProperty(script)
  })
})
