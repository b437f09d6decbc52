import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'
import { luaText } from '../../scripts/lua-text.mjs'

/**
 * The consumer tier: the package as users install it (`npm run test:consumers`). setup.ts
 * builds, packs and installs the tarball into test/consumers/app; the tests typecheck that app
 * like create-vite does, import every entry in Node, lint the tarball, and drive the app in
 * Chromium under `vite dev` and after `vite build`; and a Nuxt app (test/consumers/nuxt) on the
 * same tarball, typechecked and built, in Chromium.
 */
export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  // The Redis engine's scripts (src/server/redis/*.lua), for tests that import src/server.
  plugins: [luaText()],
  test: {
    include: ['test/consumers/**/*.test.ts'],
    exclude: ['test/consumers/app/**', 'test/consumers/nuxt/**', 'node_modules/**'],
    globalSetup: ['test/consumers/setup.ts'],
    environment: 'node',
    pool: 'forks',
    // Two cores: one heavy step (a typecheck, a browser) at a time.
    fileParallelism: false,
    testTimeout: 240_000,
    hookTimeout: 240_000,
  },
})
