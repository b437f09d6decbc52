/**
 * Writes the relative imports of the emitted declarations out in full (`'./core'` becomes
 * `'./core/index.js'`, `'./url'` becomes `'./url.js'`). tsc keeps the sources' extensionless
 * specifiers, which `moduleResolution` node16/nodenext refuses (TS2834), so without this every
 * type of `vue-realtime/server` and `/core` is `any` under create-vite's `tsconfig.node.json`.
 * A specifier that matches no declaration file fails the build instead of shipping a broken type.
 *
 * Usage: node scripts/dts-extensions.mjs [dir]   (default: dist)
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'

const root = resolve(process.argv[2] ?? 'dist')
const SPECIFIER = /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])(\.\.?\/[^'"]*|\.\.?)\2/g

function* declarations(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) yield* declarations(path)
    else if (name.endsWith('.d.ts')) yield path
  }
}

function fullSpecifier(file, specifier) {
  if (/\.(m|c)?js$/.test(specifier)) return specifier
  const target = resolve(dirname(file), specifier)
  if (existsSync(`${target}.d.ts`)) return `${specifier}.js`
  if (existsSync(join(target, 'index.d.ts'))) return `${specifier.replace(/\/$/, '')}/index.js`
  throw new Error(`${file}: no declaration file for the import '${specifier}'. Is it a type-only path tsc did not emit?`)
}

let rewritten = 0
for (const file of declarations(root)) {
  const text = readFileSync(file, 'utf8')
  const next = text.replace(SPECIFIER, (_, head, quote, specifier) => `${head}${quote}${fullSpecifier(file, specifier)}${quote}`)
  if (next !== text) {
    writeFileSync(file, next)
    rewritten++
  }
}
console.log(`dts-extensions: full relative specifiers in ${rewritten} declaration files under ${root}`)
