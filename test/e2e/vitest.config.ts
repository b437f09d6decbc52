import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'
import { luaText } from '../../scripts/lua-text.mjs'

/**
 * End-to-end tests of the demo chat in headless Chromium (playwright-core):
 * `npx vitest run --config test/e2e/vitest.config.ts`. Needs /usr/bin/chromium (or CHROMIUM_PATH).
 */
export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  // The Redis engine's scripts (src/server/redis/*.lua), for tests that import src/server.
  plugins: [luaText()],
  test: {
    include: ['test/e2e/**/*.e2e.test.ts'],
    // Fails the run if the marker token of the secret-leak tests is printed anywhere.
    globalSetup: ['test/support/leakGuard.ts'],
    environment: 'node',
    pool: 'forks',
    // One browser at a time: two cores, and the scenarios measure reconnect timing.
    fileParallelism: false,
    testTimeout: 90_000,
    hookTimeout: 120_000,
    teardownTimeout: 30_000,
  },
})
