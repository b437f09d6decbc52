// Builds test/build/fixture/main.ts as an app bundle with Vite, the way a user's build does:
// `process.env.NODE_ENV` decides the mode, minified, `vue` left external.
//   NODE_ENV=production node test/build/fixtureBuild.mjs <outDir>
// `devtools` picks what the plugin's devtools folder is built from (bench/devtools-cost.mjs
// compares them): 'ours' (the hook), 'none' (a stub), 'devtools-api' (@vue/devtools-api,
// dynamically imported).
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'vite'

const root = fileURLToPath(new URL('../..', import.meta.url))
const devtoolsDir = join(root, 'src/vue/devtools')
const VARIANTS = {
  none: { from: join(devtoolsDir, 'index.ts'), to: join(root, 'bench/devtools/stub.ts') },
  'devtools-api': { from: join(devtoolsDir, 'hook.ts'), to: join(root, 'bench/devtools/hookViaApi.ts') },
}

/** @param {string} outDir @param {{ devtools?: 'ours' | 'none' | 'devtools-api' }} [options] */
export async function buildFixture(outDir, { devtools = 'ours' } = {}) {
  const swap = VARIANTS[devtools]
  await build({
    configFile: false,
    root,
    logLevel: 'silent',
    mode: process.env.NODE_ENV ?? 'production',
    resolve: { alias: [{ find: /^vue-realtime$/, replacement: join(root, 'src/index.ts') }] },
    plugins: swap
      ? [
          {
            name: 'swap-devtools',
            enforce: 'pre',
            async resolveId(source, importer, options) {
              if (!importer?.startsWith(devtoolsDir) && !importer?.startsWith(join(root, 'src/vue'))) return null
              const resolved = await this.resolve(source, importer, { ...options, skipSelf: true })
              return resolved?.id === swap.from ? swap.to : null
            },
          },
        ]
      : [],
    build: {
      outDir,
      emptyOutDir: true,
      minify: true,
      sourcemap: false,
      target: 'es2022',
      rollupOptions: {
        input: join(root, 'test/build/fixture/main.ts'),
        external: ['vue'],
        output: { entryFileNames: 'app.js', chunkFileNames: '[name].js', format: 'es' },
      },
    },
  })
  const files = (await readdir(outDir)).filter((f) => f.endsWith('.js'))
  return Promise.all(files.map(async (file) => ({ file, code: await readFile(join(outDir, file), 'utf8') })))
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const outDir = process.argv[2]
  if (!outDir) throw new Error('usage: NODE_ENV=production node test/build/fixtureBuild.mjs <outDir> [ours|none|devtools-api]')
  const chunks = await buildFixture(outDir, { devtools: process.argv[3] ?? 'ours' })
  for (const { file, code } of chunks) console.log(`${file}\t${code.length}`)
}
