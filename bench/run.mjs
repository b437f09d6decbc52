// `npm run bench` — every scenario × library (× variant) in a fresh child process, a loopback
// server per job, repeated for the scenario's rounds with the libraries interleaved (round 1:
// every library, round 2: every library again, starting one further along...), so slow drift of
// the machine hits every library alike. A row is the median of its rounds; a ratio is the median
// of the per-round ratios to the scenario's baseline (same round, same variant). Prints markdown
// tables and writes bench/results.json.
//   node bench/run.mjs [--only a,b] [--libs ws,vueuse] [--rounds 1] [--no-write]
import { fork } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildAll } from './lib/build.mjs'
import { median, round } from './lib/util.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))
export const LIBRARIES = ['ws', 'ws-onmessage', 'ws-batched', 'raw-raf', 'vue-realtime', 'vue-realtime-server', 'vueuse', 'reconnecting-websocket', 'partysocket', 'socket.io']
const SCENARIOS = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm']

function arg(name) {
  const i = process.argv.indexOf(`--${name}`)
  if (i === -1) return undefined
  const v = process.argv[i + 1]
  return v && !v.startsWith('--') ? v : ''
}
const only = arg('only')?.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean)
const libs = arg('libs')?.split(',').map((s) => s.trim()).filter(Boolean)
const roundsOverride = arg('rounds') ? Number(arg('rounds')) : undefined
const write = process.argv.indexOf('--no-write') === -1

function runJob(scenario, job, meta) {
  const { library, variant, round: r } = job
  return new Promise((resolve) => {
    const started = performance.now()
    const child = fork(path.join(here, 'job.mjs'), [scenario, library, variant?.id ?? ''], {
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
        // The error's own line (a crash ends with Node's version line, which says nothing).
        const lines = err.trim().split('\n')
        const cause = lines.find((l) => /^\s*(\w*Error|Uncaught|\[bench\])/.test(l)) ?? lines.at(-2) ?? ''
        result = { scenario, library, status: 'error', reason: `${why}: ${cause.trim().slice(0, 300)}` }
      }
      result.jobMs = ms
      result.round = r
      if (variant) result.variant = variant.id
      process.stderr.write(`[bench] ${scenario}${variant ? `/${variant.id}` : ''} ${library} round ${r + 1}: ${result.status} in ${ms} ms${result.reason ? ` (${result.reason})` : ''}\n`)
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

/**
 * Round-major job list; each round starts one library further along so no library is always
 * first. vue-realtime, the scenario's baseline and its `references` run every round; the other peers run
 * `meta.peerRounds` of them (default: all), so a bounded run still has them side by side.
 */
function schedule(meta, jobLibs, rounds) {
  const jobs = []
  const peerRounds = Math.min(rounds, meta.peerRounds ?? rounds)
  for (let r = 0; r < rounds; r++) {
    for (const variant of meta.variants ?? [undefined]) {
      for (let k = 0; k < jobLibs.length; k++) {
        const library = jobLibs[(k + r) % jobLibs.length]
        if (variant?.exclude?.includes(library)) continue
        if (r >= peerRounds && !library.startsWith('vue-realtime') && library !== meta.baseline && !meta.references?.includes(library)) continue
        jobs.push({ library, variant, round: r })
      }
    }
  }
  return jobs
}

/** The median of every numeric field over the rounds; other fields from the first round. */
function aggregateDefault(runs) {
  const row = { ...runs[0] }
  for (const key of Object.keys(runs[0])) {
    const values = runs.map((r) => r[key])
    if (values.every((v) => typeof v === 'number')) row[key] = median(values)
  }
  return row
}

function aggregate(scenario, meta, results) {
  const rows = []
  const groups = new Map()
  for (const r of results) {
    const key = `${r.variant ?? ''}/${r.library}`
    if (!groups.has(key)) groups.set(key, [])
    groups.get(key).push(r)
  }
  for (const runs of groups.values()) {
    const ok = runs.filter((r) => r.status === 'ok')
    const first = runs[0]
    const base = { scenario: first.scenario, library: first.library, ...(first.variant ? { variant: first.variant } : {}) }
    if (ok.length === 0) {
      rows.push({ ...base, status: first.status, reason: first.reason, rounds: runs.length })
      continue
    }
    const strip = ({ scenario: _s, library: _l, variant: _v, status: _st, ...rest }) => rest
    const row = (scenario.aggregate ?? aggregateDefault)(ok.map(strip))
    const perRound = {}
    for (const c of meta.columns) if (ok.every((r) => typeof r[c.key] === 'number')) perRound[c.key] = ok.map((r) => r[c.key])
    rows.push({
      ...base,
      status: 'ok',
      ...row,
      rounds: ok.length,
      ...(ok.length < runs.length ? { failedRounds: runs.length - ok.length, failure: runs.find((r) => r.status !== 'ok').reason } : {}),
      perRound,
      jobMs: Math.round(median(runs.map((r) => r.jobMs))),
    })
  }
  // Ratios to the baseline (or the ratio's own `baseline`): per round (same variant), then the median.
  for (const ratio of meta.ratios ?? []) {
    for (const row of rows) {
      if (row.status !== 'ok') continue
      const mine = results.filter((r) => r.library === row.library && r.variant === row.variant && r.status === 'ok')
      const values = []
      for (const r of mine) {
        const b = results.find((x) => x.library === (ratio.baseline ?? meta.baseline) && x.variant === row.variant && x.round === r.round && x.status === 'ok')
        const a = ratio.value ? ratio.value(r) : r[ratio.key]
        const d = b && (ratio.value ? ratio.value(b) : b[ratio.key])
        if (typeof a === 'number' && typeof d === 'number' && d !== 0 && Number.isFinite(a) && Number.isFinite(d)) values.push(a / d)
      }
      if (values.length) row[ratioKey(ratio)] = round(median(values), 2)
    }
  }
  return rows
}

const ratioKey = (ratio) => ratio.name ?? `${ratio.key}Ratio`

const loadAt = (averages) => averages.map((l) => round(l, 2))
const startedAt = new Date()
const loadAtStart = loadAt(os.loadavg())
const t0 = performance.now()
const build = await buildAll()
for (const [name, s] of Object.entries(build)) if (!s.ok) console.error(`[bench] vue-realtime ${name}: ${s.reason}`)

const results = []
const tables = []
for (const id of SCENARIOS) {
  if (only && !only.includes(id)) continue
  const scenario = await import(`./scenarios/${id}.mjs`)
  const { meta } = scenario
  const jobLibs = meta.libraries.filter((l) => !libs || libs.includes(l))
  const rounds = Math.max(1, roundsOverride ?? meta.rounds ?? 1)
  const s0 = performance.now()
  const s0Load = os.loadavg()
  const jobs = schedule(meta, jobLibs, rounds)
  const raw = await pool(
    jobs.map((job) => () => runJob(id, job, meta)),
    meta.concurrency ?? 1,
  )
  const rows = aggregate(scenario, meta, raw)
  // Kept with each row: a filtered run replaces only its own rows in results.json, so the file's date and load are not theirs.
  const measuredAt = { date: new Date().toISOString(), loadAverage: { start: loadAt(s0Load), end: loadAt(os.loadavg()) } }
  for (const row of rows) row.measured = measuredAt
  scenario.finish?.(rows)
  rows.sort((x, y) => variantIndex(meta, x) - variantIndex(meta, y) || meta.libraries.indexOf(x.library) - meta.libraries.indexOf(y.library))
  results.push(...rows)
  const na = (meta.notApplicable ?? []).filter((n) => !libs || libs.includes(n.library))
  tables.push(table(meta, rows, na, rounds))
  process.stderr.write(`[bench] scenario ${id} done in ${((performance.now() - s0) / 1000).toFixed(1)} s\n`)
}

function variantIndex(meta, row) {
  return (meta.variants ?? []).findIndex((v) => v.id === row.variant)
}

function cell(v, format) {
  if (v == null) return '–'
  if (format) return format(v)
  if (typeof v === 'boolean') return v ? 'yes' : 'no'
  if (typeof v === 'number') return Number.isInteger(v) ? v.toLocaleString('en-US') : String(v)
  return String(v).replace(/\|/g, '\\|')
}

function line(cells) {
  return `| ${cells.join(' | ')} |`
}

function table(meta, rows, notApplicable, rounds) {
  const columns = [...meta.columns, ...(meta.ratios ?? []).map((r) => ({ key: ratioKey(r), label: r.label, format: (v) => `${v}×` }))]
  const variantLabel = (id) => meta.variants?.find((v) => v.id === id)?.label ?? id
  const lead = meta.variants ? ['variant', 'library'] : ['library']
  const head = [...lead, ...columns.map((c) => c.label)]
  const peerRounds = Math.min(rounds, meta.peerRounds ?? rounds)
  const roundsText = rounds <= 1 ? '' : peerRounds < rounds ? ` (median of ${rounds} interleaved rounds; other peers: ${peerRounds})` : ` (median of ${rounds} interleaved rounds)`
  const title = `### ${meta.id}. ${meta.title}${roundsText}`
  const lines = [title, '', line(head), `|${head.map(() => '---').join('|')}|`]
  for (const r of rows) {
    const leadCells = meta.variants ? [variantLabel(r.variant), r.library] : [r.library]
    if (r.status !== 'ok') {
      lines.push(line([...leadCells, `${r.status === 'skipped' ? 'skipped' : 'error'}: ${cell(r.reason)}`, ...columns.slice(1).map(() => '')]))
      continue
    }
    lines.push(line([...leadCells, ...columns.map((c) => cell(r[c.key], c.format))]))
    if (r.failedRounds) lines.push(line([...leadCells.map(() => ''), `(${r.failedRounds} of ${r.failedRounds + r.rounds} rounds failed: ${cell(r.failure)})`, ...columns.slice(1).map(() => '')]))
  }
  for (const n of notApplicable) lines.push(line([...(meta.variants ? ['all'] : []), n.library, `n/a: ${n.reason}`, ...columns.slice(1).map(() => '')]))
  if (meta.note) lines.push('', meta.note)
  return lines.join('\n')
}

const totalS = (performance.now() - t0) / 1000
const cpus = os.cpus()
const machine = {
  node: process.version,
  cpu: cpus[0]?.model?.trim() ?? 'unknown',
  cores: cpus.length,
  platform: `${os.platform()} ${os.arch()}`,
  memoryGB: Math.round(os.totalmem() / 2 ** 30),
  loadAverage: { start: loadAtStart, end: os.loadavg().map((l) => round(l, 2)) },
}
const header = `## Benchmarks — ${startedAt.toISOString().slice(0, 10)}, Node ${machine.node}, ${machine.cpu} (${machine.cores} cores), load average ${machine.loadAverage.start.join(' / ')} at the start, ${machine.loadAverage.end.join(' / ')} at the end, ${totalS.toFixed(0)} s`
console.log([header, '', ...tables.map((t) => t + '\n')].join('\n'))
if (write) {
  // A filtered run (--only/--libs) updates its rows in the existing results instead of dropping the others.
  const file = path.join(here, 'results.json')
  let merged = results
  if ((only || libs) && existsSync(file)) {
    try {
      const previous = JSON.parse(readFileSync(file, 'utf8')).results ?? []
      const key = (r) => `${r.scenario}/${r.variant ?? ''}/${r.library}`
      const fresh = new Set(results.map(key))
      merged = [...previous.filter((r) => !fresh.has(key(r))), ...results]
      merged.sort((x, y) => SCENARIOS.indexOf(x.scenario) - SCENARIOS.indexOf(y.scenario) || LIBRARIES.indexOf(x.library) - LIBRARIES.indexOf(y.library))
    } catch {}
  }
  writeFileSync(
    file,
    JSON.stringify(
      {
        date: startedAt.toISOString(),
        durationSeconds: Math.round(totalS),
        machine,
        build,
        filter: { only: only ?? null, libs: libs ?? null, rounds: roundsOverride ?? null },
        results: merged,
      },
      null,
      2,
    ) + '\n',
  )
}
