// `npm run bench` — every scenario × library in a fresh child process, a loopback server per
// job; prints markdown tables and writes bench/results.json.
//   node bench/run.mjs [--only a,b] [--libs ws,vueuse] [--no-write]
import { fork } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildAll } from './lib/build.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))
export const LIBRARIES = ['ws', 'vue-realtime', 'vueuse', 'reconnecting-websocket', 'partysocket', 'socket.io']
const SCENARIOS = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i']

function arg(name) {
  const i = process.argv.indexOf(`--${name}`)
  if (i === -1) return undefined
  const v = process.argv[i + 1]
  return v && !v.startsWith('--') ? v : ''
}
const only = arg('only')?.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean)
const libs = arg('libs')?.split(',').map((s) => s.trim()).filter(Boolean)
const write = process.argv.indexOf('--no-write') === -1

function runJob(scenario, library, meta) {
  return new Promise((resolve) => {
    const started = performance.now()
    const child = fork(path.join(here, 'job.mjs'), [scenario, library], {
      execArgv: meta.execArgv ?? [],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    })
    let out = ''
    let err = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (err += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), meta.timeoutMs)
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      const ms = Math.round(performance.now() - started)
      const line = out.trim().split('\n').filter((l) => l.startsWith('{')).pop()
      let result
      try {
        result = JSON.parse(line)
      } catch {
        const why = signal === 'SIGKILL' ? `killed after ${meta.timeoutMs} ms` : `exit ${code}`
        result = { scenario, library, status: 'error', reason: `${why}: ${err.trim().split('\n').slice(-2).join(' | ')}` }
      }
      result.jobMs = ms
      resolve(result)
    })
  })
}

/** Runs `tasks` (functions returning promises) with at most `n` at once, results in order. */
async function pool(tasks, n) {
  const results = new Array(tasks.length)
  let i = 0
  const worker = async () => {
    while (i < tasks.length) {
      const k = i++
      results[k] = await tasks[k]()
    }
  }
  await Promise.all(Array.from({ length: Math.min(n, tasks.length) }, worker))
  return results
}

const startedAt = new Date()
const t0 = performance.now()
const build = await buildAll()
for (const [name, s] of Object.entries(build)) if (!s.ok) console.error(`[bench] vue-realtime ${name}: ${s.reason}`)

const results = []
const tables = []
for (const id of SCENARIOS) {
  if (only && !only.includes(id)) continue
  const scenario = await import(`./scenarios/${id}.mjs`)
  const { meta } = scenario
  const jobs = meta.libraries.filter((l) => !libs || libs.includes(l))
  const s0 = performance.now()
  const rows = await pool(
    jobs.map((lib) => () => runJob(id, lib, meta)),
    meta.concurrency ?? 1,
  )
  for (const row of rows) process.stderr.write(`[bench] ${id} ${row.library}: ${row.status} in ${row.jobMs} ms${row.reason ? ` (${row.reason})` : ''}\n`)
  scenario.finish?.(rows)
  results.push(...rows)
  const na = (meta.notApplicable ?? []).filter((n) => !libs || libs.includes(n.library))
  tables.push(table(meta, rows, na))
  process.stderr.write(`[bench] scenario ${id} done in ${((performance.now() - s0) / 1000).toFixed(1)} s\n`)
}

function cell(v) {
  if (v == null) return '–'
  if (typeof v === 'boolean') return v ? 'yes' : 'no'
  if (typeof v === 'number') return Number.isInteger(v) ? v.toLocaleString('en-US') : String(v)
  return String(v).replace(/\|/g, '\\|')
}

function row(cells) {
  return `| ${cells.join(' | ')} |`
}

function table(meta, rows, notApplicable) {
  const head = ['library', ...meta.columns.map((c) => c.label)]
  const lines = [`### ${meta.id}. ${meta.title}`, '', row(head), `|${head.map(() => '---').join('|')}|`]
  for (const r of rows) {
    if (r.status !== 'ok') {
      lines.push(row([r.library, `${r.status === 'skipped' ? 'skipped' : 'error'}: ${cell(r.reason)}`, ...meta.columns.slice(1).map(() => '')]))
      continue
    }
    lines.push(row([r.library, ...meta.columns.map((c) => cell(r[c.key]))]))
  }
  for (const n of notApplicable) lines.push(row([n.library, `n/a: ${n.reason}`, ...meta.columns.slice(1).map(() => '')]))
  if (meta.note) lines.push('', meta.note)
  return lines.join('\n')
}

const totalS = (performance.now() - t0) / 1000
const cpus = os.cpus()
const machine = { node: process.version, cpu: cpus[0]?.model?.trim() ?? 'unknown', cores: cpus.length, platform: `${os.platform()} ${os.arch()}`, memoryGB: Math.round(os.totalmem() / 2 ** 30) }
const header = `## Benchmarks — ${startedAt.toISOString().slice(0, 10)}, Node ${machine.node}, ${machine.cpu} (${machine.cores} cores), ${totalS.toFixed(0)} s`
console.log([header, '', ...tables.map((t) => t + '\n')].join('\n'))
if (write) {
  // A filtered run (--only/--libs) updates its rows in the existing results instead of dropping the others.
  const file = path.join(here, 'results.json')
  let merged = results
  if ((only || libs) && existsSync(file)) {
    try {
      const previous = JSON.parse(readFileSync(file, 'utf8')).results ?? []
      const key = (r) => `${r.scenario}/${r.library}`
      const fresh = new Set(results.map(key))
      merged = [...previous.filter((r) => !fresh.has(key(r))), ...results]
      merged.sort((x, y) => SCENARIOS.indexOf(x.scenario) - SCENARIOS.indexOf(y.scenario) || LIBRARIES.indexOf(x.library) - LIBRARIES.indexOf(y.library))
    } catch {}
  }
  writeFileSync(
    file,
    JSON.stringify({ date: startedAt.toISOString(), durationSeconds: Math.round(totalS), machine, build, filter: { only: only ?? null, libs: libs ?? null }, results: merged }, null, 2) + '\n',
  )
}
