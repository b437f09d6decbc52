// What the devtools add to a development bundle, and what they leave in a production one.
//   node bench/devtools-cost.mjs
// Builds test/build/fixture (plugin + useWebSocket + useChannel, vue external, minified) with
// Vite three ways: devtools stubbed out, our hook-based devtools, and the same devtools on
// @vue/devtools-api (dynamically imported). Prints min and min+gzip bytes of all JS chunks.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { buildFixture } from '../test/build/fixtureBuild.mjs'

const dir = await mkdtemp(join(tmpdir(), 'vue-realtime-devtools-cost-'))
const rows = []
try {
  for (const env of ['development', 'production']) {
    process.env.NODE_ENV = env
    for (const devtools of ['none', 'ours', 'devtools-api']) {
      const chunks = await buildFixture(join(dir, `${env}-${devtools}`), { devtools })
      const min = chunks.reduce((sum, c) => sum + Buffer.byteLength(c.code), 0)
      const gzip = chunks.reduce((sum, c) => sum + gzipSync(c.code, { level: 9 }).length, 0)
      rows.push({ env, devtools, chunks: chunks.length, min, gzip })
    }
  }
} finally {
  await rm(dir, { recursive: true, force: true })
}
const base = Object.fromEntries(rows.filter((r) => r.devtools === 'none').map((r) => [r.env, r]))
console.log('build        devtools       chunks   min B  gzip B  added min  added gzip')
for (const r of rows) {
  const b = base[r.env]
  console.log(
    `${r.env.padEnd(12)} ${r.devtools.padEnd(14)} ${String(r.chunks).padStart(6)} ${String(r.min).padStart(7)} ${String(r.gzip).padStart(7)} ${String(r.min - b.min).padStart(10)} ${String(r.gzip - b.gzip).padStart(11)}`,
  )
}
