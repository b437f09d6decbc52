// Bundles the TypeScript the bench needs into bench/.tmp (gitignored) so plain .mjs jobs can
// import it: vue-realtime's client (src/index.ts), its server (src/server/index.ts), and what
// the tests share with the bench: the fault proxy (test/support/proxy.ts), the browser
// firehose harness (test/support/firehose.ts) and the redis-server launcher
// (test/support/redis.ts). A missing or broken source is
// reported as "not available yet", never thrown: peer rows must run without it.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import path from 'node:path'
import * as esbuild from 'esbuild'

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))
export const TMP = path.join(ROOT, 'bench/.tmp')
const STATUS = path.join(TMP, 'build.json')

export const artifacts = {
  client: { entry: 'src/index.ts', out: 'vue-realtime.mjs', needs: ['src/core/connection.ts', 'src/core/manager.ts', 'src/vue/useWebSocket.ts'] },
  server: { entry: 'src/server/index.ts', out: 'vue-realtime-server.mjs', needs: ['src/server/index.ts'] },
  proxy: { entry: 'test/support/proxy.ts', out: 'proxy.mjs', needs: ['test/support/proxy.ts'] },
  firehose: { entry: 'test/support/firehose.ts', out: 'firehose.mjs', needs: ['test/support/firehose.ts', 'test/support/firehosePage.ts'] },
  redis: { entry: 'test/support/redis.ts', out: 'redis.mjs', needs: ['test/support/redis.ts'] },
  tabs: { entry: 'test/e2e/tabs/harness.ts', out: 'tabs-harness.mjs', needs: ['test/e2e/tabs/harness.ts', 'src/core/tabs/index.ts'] },
}

/** Where `vue-realtime` and its subpaths resolve: the TypeScript sources. */
export const alias = {
  'vue-realtime/core': path.join(ROOT, 'src/core/index.ts'),
  'vue-realtime/server': path.join(ROOT, 'src/server/index.ts'),
  'vue-realtime/pinia': path.join(ROOT, 'src/pinia/index.ts'),
  'vue-realtime': path.join(ROOT, 'src/index.ts'),
}

/** Builds every artifact; returns { name: { ok, file?, reason? } } and records it for the jobs. */
export async function buildAll() {
  mkdirSync(TMP, { recursive: true })
  const status = {}
  for (const [name, a] of Object.entries(artifacts)) {
    const missing = a.needs.filter((f) => !existsSync(path.join(ROOT, f)))
    if (missing.length) {
      status[name] = { ok: false, reason: `not available yet (${missing.join(', ')} missing)` }
      continue
    }
    const file = path.join(TMP, a.out)
    try {
      await esbuild.build({
        entryPoints: [path.join(ROOT, a.entry)],
        outfile: file,
        bundle: true,
        format: 'esm',
        platform: 'node',
        target: 'node20',
        // Resolved at run time from node_modules, exactly as users would get them.
        external: ['vue', 'pinia', 'ws', 'redis', 'better-sqlite3', '@vue/*', 'esbuild', 'playwright-core'],
        // The Redis engine's scripts (src/server/redis/*.lua) are inlined as text.
        loader: { '.lua': 'text' },
        alias,
        logLevel: 'silent',
        define: { __DEV__: 'false', 'process.env.NODE_ENV': '"production"' },
      })
      status[name] = { ok: true, file }
    } catch (error) {
      const first = error?.errors?.[0]
      const where = first?.location ? ` at ${first.location.file}:${first.location.line}` : ''
      status[name] = { ok: false, reason: `build failed: ${first?.text ?? error.message}${where}` }
    }
  }
  writeFileSync(STATUS, JSON.stringify(status, null, 2))
  return status
}

/** For a job: the build status written by run.mjs (or a fresh build when a job runs alone). */
export async function built(name) {
  let status
  if (existsSync(STATUS)) status = JSON.parse(readFileSync(STATUS, 'utf8'))
  if (!status?.[name] || (status[name].ok && !existsSync(status[name].file))) status = await buildAll()
  return status[name]
}

/** Import a built artifact, or throw a `Skip` with the reason it is not available. */
export async function load(name) {
  const s = await built(name)
  if (!s.ok) throw new Skip(`vue-realtime ${name}: ${s.reason}`)
  return import(s.file)
}

export class Skip extends Error {}
