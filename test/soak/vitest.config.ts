import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'
import { luaText } from '../../scripts/lua-text.mjs'

/**
 * The soak (`npm run test:soak`): 2,000 connections churning against one server for
 * `SOAK_SECONDS` (default 60), server and clients in child processes. Separate from `npm test`
 * for its length; `.ci/run` runs it after the suite.
 */
export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  // The Redis engine's scripts (src/server/redis/*.lua), for tests that import src/server.
  plugins: [luaText()],
  test: {
    // Not *.test.ts: the default run (npm test) must not pick it up.
    include: ['test/soak/**/*.soak.ts'],
    environment: 'node',
    pool: 'forks',
    testTimeout: 600_000,
    hookTimeout: 60_000,
  },
})
