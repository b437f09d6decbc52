// Simulates reconnect schedules before measuring them (bench scenarios c and f): a herd of
// clients dropped at once while the server refuses for 0, 500 or 2,000 ms, and a lone client
// after a restart that refuses for 1,000 ms. Pure arithmetic on a seeded random source, so a
// schedule's figures are its own, free of the machine's noise.
//   node bench/sim/herd.mjs                 the real backoffDelay (src/core/backoff.ts) and the alternatives
//   node bench/sim/herd.mjs --frontier [--min 900,1000] [--factor 1.5] [--jitter 0.05]
//                                           the lone-restart median against the herd peak, swept
//   node bench/sim/herd.mjs --trials 400    more trials per figure (default 200)
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import * as esbuild from 'esbuild'
import { ROOT, TMP } from '../lib/build.mjs'

const CLIENTS = 300
const WINDOW_MS = 100
const HERD_REFUSALS = [0, 500, 2000]
const LONE_REFUSAL = 1000
/** Loopback latencies measured through the fault proxy: a refused attempt fails after ~2 ms, a handshake opens after ~3 ms. */
const REFUSED_MS = 2
const OPEN_MS = 3
/** No schedule worth keeping needs this long; a client still out after it counts as never back. */
const HORIZON_MS = 60_000

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`)
  return i === -1 ? fallback : process.argv[i + 1] ?? true
}
const TRIALS = Number(arg('trials', 200))

/** A seeded uniform [0, 1) source (LCG), so every schedule sees the same draws. */
export function seeded(seed) {
  let state = seed >>> 0
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    return state / 2 ** 32
  }
}

/** The real backoff, bundled from src/core/backoff.ts. */
export async function loadBackoff() {
  const outfile = path.join(TMP, 'sim-backoff.mjs')
  await esbuild.build({ entryPoints: [path.join(ROOT, 'src/core/backoff.ts')], outfile, bundle: true, format: 'esm', platform: 'neutral', logLevel: 'silent' })
  return import(`${pathToFileURL(outfile).href}?t=${Date.now()}`)
}

/**
 * One client's attempts from the drop (t = 0) until one lands at or after `refuseUntil`.
 * `delay(attempt, random)` is the schedule; a refused attempt fails REFUSED_MS later and the
 * next delay counts from there, as in Connection.
 */
function client(delay, refuseUntil, random, attempts) {
  let t = 0
  for (let attempt = 1; t < HORIZON_MS; attempt++) {
    t += delay(attempt, random)
    attempts.push(t)
    if (t >= refuseUntil) return t + OPEN_MS
    t += REFUSED_MS
  }
  return null
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]
}
const median = (values) => percentile([...values].sort((a, b) => a - b), 50)

/** Largest number of attempts in any WINDOW_MS window (sliding, as the bench counts). */
function peak(times) {
  times.sort((a, b) => a - b)
  let best = 0
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[i] - times[j] >= WINDOW_MS) j++
    best = Math.max(best, i - j + 1)
  }
  return best
}

/** Medians over TRIALS herds of CLIENTS: peak per window, attempts, refused, p50/p90 back. */
export function herd(delay, refuseUntil, trials = TRIALS) {
  const rows = []
  for (let trial = 0; trial < trials; trial++) {
    const random = seeded(1 + trial * 7919)
    const attempts = []
    const back = []
    for (let c = 0; c < CLIENTS; c++) back.push(client(delay, refuseUntil, random, attempts) ?? Infinity)
    back.sort((a, b) => a - b)
    rows.push({
      peak: peak(attempts),
      attempts: attempts.length,
      refused: attempts.filter((t) => t < refuseUntil).length,
      p50: percentile(back, 50),
      p90: percentile(back, 90),
    })
  }
  const m = (key) => median(rows.map((r) => r[key]))
  return { peak: m('peak'), peakP90: percentile(rows.map((r) => r.peak).sort((a, b) => a - b), 90), attempts: m('attempts'), refused: m('refused'), p50: m('p50'), p90: m('p90') }
}

/** The lone client's time back after a refusal of `refuseUntil` ms: the median of many draws, and how often a median of 7 runs (scenario c) exceeds `limit`. */
export function lone(delay, refuseUntil, draws = 20_000) {
  const random = seeded(4242)
  const times = []
  for (let i = 0; i < draws; i++) times.push(client(delay, refuseUntil, random, []) ?? Infinity)
  return { median: median(times), p90: percentile([...times].sort((a, b) => a - b), 90) }
}

/** Alternatives from the literature, each with the same first window so they compare fairly. */
function alternatives(cap) {
  const expo = (base, k) => Math.min(cap, base * 2 ** (k - 1))
  return {
    // AWS Architecture Blog, "Exponential Backoff and Jitter" (2015): sleep = random(0, min(cap, base·2^attempt)).
    'full jitter, base 1000': (k, r) => r() * expo(1000, k),
    'full jitter, base 1500': (k, r) => r() * expo(1500, k),
    'full jitter, base 2000': (k, r) => r() * expo(2000, k),
    // Same post: half fixed, half random.
    'equal jitter, base 2000': (k, r) => expo(2000, k) / 2 + (r() * expo(2000, k)) / 2,
    // Same post: sleep = min(cap, random(base, sleep·3)); the state lives in the closure per client,
    // so it is modelled with a per-client memory keyed on the random source.
    'decorrelated, base 1000': decorrelated(1000, cap),
    // socket.io-client / engine.io Backoff: min(max, 1000·2^n) × (1 ± 0.5).
    'socket.io (1000, ×2, ±0.5)': (k, r) => Math.min(5000, 1000 * 2 ** (k - 1) * (1 + 0.5 * (2 * r() - 1))),
  }
}

function decorrelated(base, cap) {
  const last = new WeakMap()
  return (k, r) => {
    const prev = k === 1 ? base : last.get(r)
    const next = Math.min(cap, base + r() * (prev * 3 - base))
    last.set(r, next)
    return k === 1 ? r() * base : next
  }
}

function row(name, delay) {
  const cells = [name]
  for (const refusal of HERD_REFUSALS) {
    const h = herd(delay, refusal)
    cells.push(`${h.peak} (${Math.round((h.peak / CLIENTS) * 100)} %)`, `${h.attempts} / ${h.refused}`, `${(h.p90 / 1000).toFixed(2)} s`)
  }
  cells.push(`${(lone(delay, LONE_REFUSAL).median / 1000).toFixed(3)} s`)
  return `| ${cells.join(' | ')} |`
}

function header() {
  const head = ['schedule']
  for (const refusal of HERD_REFUSALS) {
    const v = refusal === 0 ? 'ready' : `refused ${refusal} ms`
    head.push(`${v}: peak/100 ms`, `${v}: attempts / refused`, `${v}: p90 back`)
  }
  head.push('lone, 1 s refusal: median back')
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`]
}

// Run as a script (the functions above are also imported by the bench's notes and by experiments).
if (import.meta.url === pathToFileURL(process.argv[1]).href) await main()

async function main() {
  const backoff = await loadBackoff()
  const ours = (opts) => (k, r) => backoff.backoffDelay(k, opts, r)

  if (arg('frontier', false)) {
    // The two targets that pull against each other: the lone client (wants retries often) and the
    // herd's peak while refused (wants them rare). Sweep the period and print both.
    console.log('| minDelay | factor | jitter | peak, ready | peak, 500 ms | peak, 2 s | p90 ready | p90 500 ms | lone 1 s median |')
    console.log('|---|---|---|---|---|---|---|---|---|')
    const list = (name, fallback) => String(arg(name, fallback)).split(',').map(Number)
    for (const minDelay of list('min', '800,850,900,950,1000,1050,1100')) {
      for (const [factor, jitter] of list('factor', '1.2,1.5,2').flatMap((f) => list('jitter', '0.05,0.1').map((j) => [f, j]))) {
        const d = ours({ ...backoff.RECONNECT_DEFAULTS, minDelay, factor, jitter })
        const [a, b, c] = HERD_REFUSALS.map((r) => herd(d, r))
        console.log(`| ${minDelay} | ${factor} | ${jitter} | ${a.peak} | ${b.peak} | ${c.peak} | ${(a.p90 / 1000).toFixed(2)} | ${(b.p90 / 1000).toFixed(2)} | ${(lone(d, LONE_REFUSAL).median / 1000).toFixed(3)} |`)
      }
    }
  } else {
    console.log(`Herd of ${CLIENTS}, medians of ${TRIALS} seeded trials; peak = most attempts in any ${WINDOW_MS} ms (refused included).\n`)
    console.log(header().join('\n'))
    const defaults = backoff.RECONNECT_DEFAULTS
    console.log(row(`**vue-realtime defaults** (min ${defaults.minDelay}, ×${defaults.factor}, ±${defaults.jitter})`, ours(defaults)))
    // Before issue 11: first retry uniform over [0, 500], then 500·1.2^(n-2) × (1 ± 0.1).
    const previous = (k, r) => (k === 1 ? r() * 500 : 500 * 1.2 ** (k - 2) * (1 + 0.1 * (2 * r() - 1)))
    console.log(row('previous defaults (uniform first retry; min 500, ×1.2, ±0.1)', previous))
    console.log(row('same phase-keeping, plain uniform first retry (min 980, ×1.5, ±0.2)', (k, r) => (k === 1 ? r() * 980 : backoff.backoffDelay(k, defaults, r))))
    for (const [name, delay] of Object.entries(alternatives(defaults.maxDelay))) console.log(row(name, delay))
  }
}
