#!/usr/bin/env node
/**
 * `npm run demo:cluster`: bundles demo/cluster.ts (Node cannot run TypeScript) and runs it: a
 * local redis-server, two chat nodes on it, the site once per node. Ctrl-C stops everything.
 * Environment: REDIS_URL (use that Redis instead of starting one).
 */
import { fileURLToPath, pathToFileURL } from 'node:url'
import { build } from 'esbuild'

const outfile = fileURLToPath(new URL('../node_modules/.cache/vue-realtime-demo/cluster.mjs', import.meta.url))
await build({
  entryPoints: [fileURLToPath(new URL('./cluster.ts', import.meta.url))],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  logLevel: 'warning',
  // cluster.ts finds the repository (and bundles its node entry) from the source's location.
  define: { 'import.meta.url': JSON.stringify(pathToFileURL(fileURLToPath(new URL('./cluster.ts', import.meta.url))).href) },
})
const { main } = await import(pathToFileURL(outfile).href)

console.log('\n  vue-realtime chat demo on a cluster: two nodes, one Redis\n')
let stop
try {
  stop = await main()
} catch (error) {
  console.error(`demo:cluster: ${error?.message ?? error}`)
  process.exit(1)
}

let stopping = false
async function shutdown(signal) {
  if (stopping) process.exit(130)
  stopping = true
  console.log(`\ndemo:cluster: ${signal}, stopping…`)
  const force = setTimeout(() => process.exit(1), 8000)
  force.unref()
  await stop()
  process.exit(0)
}
process.on('SIGINT', () => void shutdown('SIGINT'))
process.on('SIGTERM', () => void shutdown('SIGTERM'))
