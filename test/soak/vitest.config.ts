import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'
import { luaText } from '../../scripts/lua-text.mjs'

/**
 * The soak (`npm run test:soak`): 2,000 connections churning against one server for
 * `SOAK_SECONDS` (default 60), server and clients in child processes. A config of its own so it
 * runs alone (it measures one server's heap and handles, and needs the cores); `npm test` runs
 * it last.
 */
export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  // The Redis engine's scripts (src/server/redis/*.lua), for tests that import src/server.
  plugins: [luaText()],
  test: {
    // Not *.test.ts: the default run (npm test) must not pick it up.
    include: ['test/soak/**/*.soak.ts'],
    // Fails the run if the marker token of the secret-leak tests is printed anywhere.
    globalSetup: ['test/support/leakGuard.ts'],
    environment: 'node',
    pool: 'forks',
    testTimeout: 600_000,
    hookTimeout: 60_000,
  },
})
