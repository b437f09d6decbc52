import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'
import { luaText } from './scripts/lua-text.mjs'

const src = (p: string) => fileURLToPath(new URL(`./src/${p}`, import.meta.url))

/**
 * Library build of `src` to `dist` (ESM; `.d.ts` come from `tsc -p tsconfig.build.json`)
 * and the vitest configuration. The demo has its own config in `demo/vite.config.ts`.
 */
export default defineConfig({
  plugins: [luaText()],
  resolve: {
    alias: [
      { find: /^vue-realtime$/, replacement: src('index.ts') },
      { find: /^vue-realtime\/core$/, replacement: src('core/index.ts') },
      { find: /^vue-realtime\/pinia$/, replacement: src('pinia/index.ts') },
      { find: /^vue-realtime\/server$/, replacement: src('server/index.ts') },
      { find: /^vue-realtime\/server\/crossws$/, replacement: src('server/crossws-entry.ts') },
    ],
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    minify: false,
    sourcemap: true,
    target: 'es2022',
    lib: {
      entry: {
        index: src('index.ts'),
        'core/index': src('core/index.ts'),
        'pinia/index': src('pinia/index.ts'),
        'server/index': src('server/index.ts'),
        'server/crossws-entry': src('server/crossws-entry.ts'),
        'nuxt/module': src('nuxt/module.ts'),
        // Shipped as a file of its own: Nuxt compiles it with the app (it imports `nuxt/app`).
        'nuxt/runtime/plugin': src('nuxt/runtime/plugin.ts'),
        'nuxt/runtime/plugin-tabs': src('nuxt/runtime/plugin-tabs.ts'),
        // Nitro compiles these with the app's server (`realtime.server: true`).
        'nuxt/runtime/server/handler': src('nuxt/runtime/server/handler.ts'),
        'nuxt/runtime/server/plugin': src('nuxt/runtime/server/plugin.ts'),
        'nuxt/runtime/server/instance': src('nuxt/runtime/server/instance.ts'),
        'nuxt/runtime/server/config': src('nuxt/runtime/server/config.ts'),
        'nuxt/runtime/server/single': src('nuxt/runtime/server/single.ts'),
      },
      formats: ['es'],
    },
    rollupOptions: {
      // `vue-realtime` itself stays an import in the Nuxt runtime, so the app's copy is the one used.
      external: [/^vue$/, /^pinia$/, /^@vue\//, /^ws$/, /^redis$/, /^better-sqlite3$/, /^node:/, /^nuxt(\/|$)/, /^@nuxt\//, /^vue-realtime(\/|$)/, /^h3$/, /^nitropack(\/|$)/, /^#vue-realtime\//],
      output: {
        preserveModules: true,
        preserveModulesRoot: fileURLToPath(new URL('./src', import.meta.url)),
        entryFileNames: '[name].js',
      },
    },
  },
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/e2e/**', 'test/consumers/**', 'node_modules/**'],
    // Fails the run if the marker token of the secret-leak tests is printed anywhere.
    globalSetup: ['test/support/leakGuard.ts'],
    environment: 'node',
    testTimeout: 20_000,
    hookTimeout: 20_000,
    typecheck: {
      enabled: true,
      include: ['test/**/*.test-d.ts'],
      tsconfig: './tsconfig.json',
    },
    pool: 'forks',
  },
})
