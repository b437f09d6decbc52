// Inlines `.lua` files as text: the Redis engine's scripts live in their own files and ship
// inside the bundle (and, for reading, as themselves beside it: dist/server/redis/*.lua).
// Used by every vite/vitest config that loads `src/server`; esbuild builds of it pass
// `loader: { '.lua': 'text' }` instead. Types: lua-text.d.mts.
import { relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

const SRC = fileURLToPath(new URL('../src', import.meta.url))

export function luaText() {
  const scripts = new Map()
  return {
    name: 'vue-realtime:lua-text',
    transform(code, id) {
      if (!id.endsWith('.lua')) return
      scripts.set(id, code)
      return { code: `export default ${JSON.stringify(code)}`, map: null }
    },
    generateBundle() {
      for (const [id, source] of scripts) {
        const fileName = relative(SRC, id).split(sep).join('/')
        this.emitFile({ type: 'asset', fileName, source })
        // The module of the inlined text (preserveModules) gets its declaration like every other .js.
        this.emitFile({ type: 'asset', fileName: fileName.replace(/\.lua$/, '.d.ts'), source: 'declare const source: string\nexport default source\n' })
      }
    },
  }
}
