/**
 * The docs site's code blocks (docs/index.md, docs/guide/*.md, docs/protocol.md) as files, the
 * way test/readme/blocks.ts does it for the README. Every fenced block is one of:
 *
 * - **compiled** (```ts, ```js, ```vue; JavaScript is checked as JavaScript, with checkJs): a
 *   module of a typechecked app. Browser code goes to the
 *   consumer app's `src/docs/<page>/<section>/` (bundler resolution), Node programs (blocks that
 *   use `vue-realtime/server` or `ws`) to its `server/docs/...` (nodenext, node16, bundler),
 *   server rendering (`vue/server-renderer`) to its `ssr/docs/...` (nodenext, node16), all
 *   checked against the packed tarball by test/consumers/types.test.ts; Nuxt code
 *   (`nuxt.config.ts`, an `app.vue` with auto-imports, Nitro's `server/...`) to the Nuxt fixture
 *   (`docs-blocks/`, `server/docs-blocks/`), checked by `npm run test:nuxt-types`;
 * - **data** (```json): wire frames and payloads, parsed as JSON by test/docs/blocks.test.ts;
 * - **marked**: the line before the fence is `<!-- not compiled: <reason> -->` (a shell session,
 *   another tool's config, a log line). VitePress drops the comment from the page.
 *
 * Anything else (no language, an unknown one, a code block without a target) fails
 * test/docs/blocks.test.ts: a new block is compiled or says why not, never skipped silently.
 * A block that names its file on its first line (`// main.ts`, `<!-- Prices.vue -->`,
 * `// server/api/orders.post.ts`) keeps that name, so files import each other as the page shows.
 * What a fragment needs around it to compile lives in one place: test/docs/context.ts.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { slug } from '../readme/blocks'
import { DOCS_CONTEXT, type DocsContext } from './context'

export const DOCS = fileURLToPath(new URL('../../docs/', import.meta.url))

/** The pages whose blocks are checked, relative to docs/: the landing page, the guide, the protocol. */
export const docsPages = (): string[] => [
  'index.md',
  'protocol.md',
  ...readdirSync(`${DOCS}guide`)
    .filter((file) => file.endsWith('.md'))
    .sort()
    .map((file) => `guide/${file}`),
]

/** Where a compiled block is typechecked. */
export type DocsTarget = 'browser' | 'node' | 'ssr' | 'nuxt' | 'nitro'

/** What a block is, for the checks. */
export type DocsKind = 'compiled' | 'data' | 'marked' | 'unchecked'

export interface DocsBlock {
  /** The page, relative to docs/ (`guide/channels.md`). */
  page: string
  /** The page's `##` section as a slug (`tokens`); `top` before the first. */
  section: string
  /** 1-based position among the section's blocks. */
  index: number
  /** The fence's language (`ts`, `vue`, `sh`...); empty when it has none. */
  lang: string
  code: string
  /** 1-based line of the opening fence in the page. */
  line: number
  /** The reason of a `<!-- not compiled: ... -->` marker on the line before the fence. */
  notCompiled?: string
  /** The file name the block gives on its first line, if any (`main.ts`, `server/api/orders.post.ts`). */
  named?: string
}

/** `guide/channels.md` → `channels`; `index.md` → `index`. */
export const pageName = (page: string): string => page.replace(/^guide\//, '').replace(/\.md$/, '')

/** The key of a block in DOCS_CONTEXT and in messages: `channels/tokens#1`. */
export const blockId = (block: Pick<DocsBlock, 'page' | 'section' | 'index'>): string => `${pageName(block.page)}/${block.section}#${block.index}`

/** `page:line`, for messages. */
export const where = (block: DocsBlock): string => `docs/${block.page}:${block.line}`

const COMPILED: Record<string, string> = { ts: 'ts', typescript: 'ts', js: 'js', javascript: 'js', vue: 'vue' }
const DATA = new Set(['json'])
const MARKER = /^<!--\s*not compiled:\s*(.*?)\s*-->\s*$/

/** Every fenced block of one page (fences of three or more backticks or tildes). */
export function pageBlocks(page: string, markdown = readFileSync(`${DOCS}${page}`, 'utf8')): DocsBlock[] {
  const blocks: DocsBlock[] = []
  const lines = markdown.split('\n')
  let section = 'top'
  const counts = new Map<string, number>()
  let inFrontmatter = lines[0] === '---'
  for (let i = inFrontmatter ? 1 : 0; i < lines.length; i++) {
    const text = lines[i]!
    if (inFrontmatter) {
      if (text === '---') inFrontmatter = false
      continue
    }
    const heading = /^##\s+(.*)$/.exec(text)
    if (heading) section = slug(heading[1]!)
    const fence = /^(\s*)(`{3,}|~{3,})\s*([\w-]*)(.*)$/.exec(text)
    if (!fence) continue
    const [, indent, marks, lang] = fence
    const start = i
    const body: string[] = []
    const close = new RegExp(`^\\s*${marks![0] === '`' ? '`' : '~'}{${marks!.length},}\\s*$`)
    for (i++; i < lines.length && !close.test(lines[i]!); i++) body.push(lines[i]!.slice(indent!.length))
    const index = (counts.get(section) ?? 0) + 1
    counts.set(section, index)
    const marker = MARKER.exec(lines[start - 1] ?? '')
    const named = /^(?:\/\/|<!--)\s*((?:[\w.-]+\/)*[\w.-]+\.(?:ts|js|mjs|vue))\b/.exec(body[0] ?? '')?.[1]
    blocks.push({
      page,
      section,
      index,
      lang: lang!.toLowerCase(),
      code: body.join('\n') + '\n',
      line: start + 1,
      ...(marker ? { notCompiled: marker[1] } : {}),
      ...(named ? { named } : {}),
    })
  }
  return blocks
}

/** Every fenced block of every checked page. */
export const docsBlocks = (): DocsBlock[] => docsPages().flatMap((page) => pageBlocks(page))

/** Compiled, data, marked, or unchecked (an error: see blocks.test.ts). */
export function kind(block: DocsBlock): DocsKind {
  if (block.notCompiled !== undefined) return block.notCompiled ? 'marked' : 'unchecked'
  if (block.lang in COMPILED) return 'compiled'
  if (DATA.has(block.lang)) return 'data'
  return 'unchecked'
}

/**
 * Where a compiled block is typechecked: the Nuxt fixture for a `nuxt.config.ts`, for
 * `server/...` files (Nitro) and for the Nuxt page's components (auto-imports); the consumer
 * app's Node side for programs that use `vue-realtime/server` or `ws` (or that DOCS_CONTEXT
 * says are Node's), its server-rendering side for `vue/server-renderer`; its browser side for
 * the rest.
 */
export function target(block: DocsBlock, context: DocsContext | undefined = DOCS_CONTEXT[blockId(block)]): DocsTarget {
  if (context?.target) return context.target
  if (block.named === 'nuxt.config.ts') return 'nuxt'
  if (block.named?.startsWith('server/')) return 'nitro'
  if (block.page === 'guide/ssr-nuxt.md' && block.lang === 'vue' && block.named === 'app.vue') return 'nuxt'
  if (/from '(vue-realtime\/server|ws)'/.test(block.code)) return 'node'
  if (/from 'vue\/server-renderer'/.test(block.code)) return 'ssr'
  return 'browser'
}

/** The file name of a compiled block in its section's directory. */
export function fileName(block: DocsBlock): string {
  if (block.named) return block.named.replace(/^server\//, '')
  return `block-${block.index}.${COMPILED[block.lang] ?? block.lang}`
}

/** The root directory of a target: in the consumer app (browser, node) or the Nuxt fixture. */
export const TARGET_DIRS: Record<DocsTarget, string> = {
  browser: 'src/docs',
  node: 'server/docs',
  ssr: 'ssr/docs',
  nuxt: 'docs-blocks',
  nitro: 'server/docs-blocks',
}

/** Where a compiled block goes, relative to its app's root. */
export const blockPath = (block: DocsBlock): string => `${TARGET_DIRS[target(block)]}/${pageName(block.page)}/${block.section}/${fileName(block)}`

/** The compiled blocks of the given targets. */
export const compiledBlocks = (targets: DocsTarget[], blocks = docsBlocks()): DocsBlock[] =>
  blocks.filter((b) => kind(b) === 'compiled' && targets.includes(target(b)))

/** The files to write: path from the app's root → contents (blocks with their context, plus context files). */
export function docsFiles(targets: DocsTarget[], blocks = docsBlocks()): Map<string, string> {
  const files = new Map<string, string>()
  for (const block of compiledBlocks(targets, blocks)) {
    const context = DOCS_CONTEXT[blockId(block)]
    const epilogue = typeof context?.epilogue === 'function' ? context.epilogue(block.code) : (context?.epilogue ?? '')
    const header = `// docs/${block.page} line ${block.line} (${blockId(block)}); generated by test/docs/blocks.ts\n`
    const code =
      block.lang === 'vue'
        ? // A component keeps its first line (the page's name for it); the prelude goes into its script.
          (context?.prelude ? block.code.replace(/(<script setup[^>]*>\n)/, `$1${context.prelude}`) : block.code)
        : header + (context?.prelude ?? '') + block.code + epilogue
    const path = blockPath(block)
    if (files.has(path)) throw new Error(`${where(block)}: a second block named ${fileName(block)} in section ${block.section}`)
    files.set(path, code)
    const dir = path.slice(0, path.lastIndexOf('/'))
    for (const [name, text] of Object.entries(context?.files ?? {})) files.set(`${dir}/${name}`, text)
  }
  return files
}

/** Writes the compiled blocks of `targets` under `root` (the consumer app, the Nuxt fixture), replacing what an earlier run wrote. */
export function writeDocsFiles(root: string, targets: DocsTarget[]): void {
  for (const t of targets) rmSync(join(root, TARGET_DIRS[t]), { recursive: true, force: true })
  for (const [path, text] of docsFiles(targets)) {
    mkdirSync(dirname(join(root, path)), { recursive: true })
    writeFileSync(join(root, path), text)
  }
}
