// Self time by function in a V8 CPU profile (`node --cpu-prof`, or BENCH_CPU_PROF=<dir> for
// the bench's helper processes): `node bench/profile-top.mjs <file.cpuprofile> [top=25]`.
// Prints each function's share of the samples, and the same summed by file (node internals,
// ws, the vue-realtime bundle, GC, idle), so a fan-out tail is found in a profile, not guessed.
import { readFileSync } from 'node:fs'

const [file, topArg = '25'] = process.argv.slice(2)
if (!file) throw new Error('usage: node bench/profile-top.mjs <file.cpuprofile> [top]')
const profile = JSON.parse(readFileSync(file, 'utf8'))
const byId = new Map(profile.nodes.map((n) => [n.id, n]))
const hits = new Map()
for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1)
const total = profile.samples.length
const selfBy = new Map()
const fileBy = new Map()
const add = (map, key, n) => map.set(key, (map.get(key) ?? 0) + n)
for (const [id, n] of hits) {
  const { functionName, url, lineNumber } = byId.get(id).callFrame
  const where = url ? url.replace(/^.*\/(node_modules\/[^/]+|bench|dist|src)\//, '$1/') : ''
  add(selfBy, `${functionName || '(anonymous)'} ${where}${url ? `:${lineNumber + 1}` : ''}`, n)
  add(fileBy, url ? (url.startsWith('node:') ? 'node internals' : where.split('/').slice(0, 2).join('/')) : functionName, n)
}
const pct = (n) => `${((n / total) * 100).toFixed(1).padStart(5)} %`
const busy = total - (selfBy.get('(idle)') ?? 0)
console.log(`${total} samples, ${pct(busy)} busy\n\nby function (self):`)
for (const [k, n] of [...selfBy].sort((a, b) => b[1] - a[1]).slice(0, Number(topArg))) console.log(`${pct(n)}  ${k}`)
console.log('\nby file (self):')
for (const [k, n] of [...fileBy].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`${pct(n)}  ${k}`)
