// Prints the README's Performance tables from bench/results.json (one `npm run bench` run), so
// the README never carries a figure the run did not produce: `node bench/report.mjs`.
import { readFileSync } from 'node:fs'

const data = JSON.parse(readFileSync(new URL('./results.json', import.meta.url), 'utf8'))
const rows = data.results
const PEERS = ['vue-realtime', 'vueuse', 'reconnecting-websocket', 'partysocket', 'socket.io']
const NAMES = { 'vue-realtime': 'vue-realtime', vueuse: 'VueUse', 'reconnecting-websocket': 'reconnecting-websocket', partysocket: 'partysocket', 'socket.io': 'socket.io-client' }

const get = (scenario, library, variant) => rows.find((r) => r.scenario === scenario && r.library === library && (variant === undefined || r.variant === variant))
const ok = (r) => r && r.status === 'ok'
const int = (n) => (n == null ? '–' : Math.round(n).toLocaleString('en-US'))
const s = (ms, digits = 2) => (ms == null ? '–' : `${(ms / 1000).toFixed(digits)} s`)
const kB = (b) => (b == null ? '–' : `${(b / 1000).toFixed(1)} kB`)
const line = (cells) => `| ${cells.join(' | ')} |`

function row(label, target, cellOf, scenario, variant) {
  const cell = (r, lib) => (!r ? 'n/a' : !ok(r) ? (r.status === 'skipped' ? 'skipped' : 'error') : cellOf(r, lib))
  return line([label, target, ...PEERS.map((lib) => {
    const mine = cell(get(scenario, lib, variant), lib)
    // Where vue-realtime also ran against its own server (a restart's close carries retry hints): both.
    const own = lib === 'vue-realtime' && get(scenario, 'vue-realtime-server', variant)
    return own ? `${mine}; its own server: ${cell(own, lib)}` : mine
  })])
}

const m = data.machine
const out = []
out.push(`Latest run: ${data.date.slice(0, 10)}, Node ${m.node.replace(/^v/, '')}, ${m.cpu}, ${m.cores} cores, ${m.memoryGB} GB, ${m.platform}; load average ${m.loadAverage?.start?.[0] ?? '?'} at the start, ${m.loadAverage?.end?.[0] ?? '?'} at the end (the machine is shared); ${Math.round(data.durationSeconds / 60)} minutes.`)
out.push('')
out.push(line(['scenario', 'target', ...PEERS.map((p) => NAMES[p])]))
out.push(`|${['', '', ...PEERS].map(() => '---').join('|')}|`)
const raw = get('a', 'ws')
out.push(row(`a. inbound msgs/s (× raw \`ws\` + \`JSON.parse\`, ${ok(raw) ? `${Math.round(raw.msgsPerSec / 1000)}k/s` : '–'})`, '≥ 0.97×', (r) => `${Math.round(r.msgsPerSec / 1000)}k (${r.msgsPerSecRatio}×)`, 'a'))
out.push(row('a. 1,000 identical messages: seen by the consumer', '1,000', (r) => int(r.identicalSeen), 'a'))
out.push(row('b. half-open (heartbeat 1 s/1 s): detected / open again', '≤ 2.5 s', (r) => (r.detectMs == null ? 'never' : `${s(r.detectMs)} / ${s(r.reopenMs)}`), 'b'))
out.push(row('c. restart (1012, TCP refused 1 s), lone client: open again, median', '≤ 1.5 s', (r) => `${s(r.medianMs)} (${r.samples} runs)`, 'c'))
out.push(row('d. 100 sends during an outage: arrived, in order', '100/100', (r) => `${r.arrived}, ${r.inOrder ? 'yes' : 'no'}`, 'd'))
out.push(row('e. 50 consumers of one URL: TCP connections', '1', (r) => int(r.tcp), 'e'))
for (const [variant, label] of [
  ['ready', 'cut, ready at once'],
  ['refused-500ms', 'cut, refused 500 ms'],
  ['refused-2s', 'cut, refused 2 s'],
  ['restart-500ms', 'restart (1012), refused 500 ms'],
  ['restart-2s', 'restart (1012), refused 2 s'],
]) {
  if (!get('f', 'vue-realtime', variant)) continue
  const target = variant === 'ready' ? '≤ 45; p90 ≤ 1.0 s' : variant.endsWith('500ms') ? '≤ 45; p90 ≤ 1.5 s' : '≤ 45'
  out.push(
    row(
      `f. herd of 300, ${label}: peak attempts per 100 ms (÷ 300) · attempts (refused) · p90 back`,
      target,
      (r) => `${r.peakAttempts} (${r.peakOfClients} %) · ${int(r.attempts)} (${int(r.refused)}) · ${s(r.p90)}`,
      'f',
      variant,
    ),
  )
}
out.push(row('g. `{ useWebSocket }` min+gzip (peers: minimal import); vue-realtime from its packed tarball', '≤ 5.0 kB', (r) => kB(r.gzipBytes), 'g'))
out.push(row('g. added to a fresh Vite app, gzip', '–', (r) => kB(r.viteDeltaBytes), 'g'))
out.push(row('h. heap growth after 1,000,000 messages; handles after `close()`', '≤ 5 MB, none', (r) => `${r.heapGrowthMB} MB, ${r.handlesLeft}`, 'h'))

const g = get('g', 'vue-realtime')
if (ok(g)) {
  out.push('')
  out.push(
    `g, vue-realtime: the whole client entry ${kB(g.wholeClient.gzipBytes)} (target ≤ 10 kB); \`{ useWebSocket }\` bundled from \`src/\` ${kB(g.fromSrc.gzipBytes)}; a Vite app with \`useWebSocket\`, \`useChannel\` and the store ${kB(g.viteDeltaChannelStoreBytes)}; dev-only markers in the production bundle: ${g.devOnlyLeaked.length ? g.devOnlyLeaked.join(', ') : 'none'} (target 0 B).`,
  )
}

out.push('')
out.push(line(['j. browser firehose (Chromium), last 200 messages rendered', 'target', 'raw WebSocket, once per frame', 'vue-realtime', 'VueUse']))
out.push('|---|---|---|---|---|')
for (const [variant, label, target] of [
  ['5k', '5,000 msgs/s: fps · max frame gap · handled', 'fps ≥ 0.95× raw, gap ≤ 34 ms'],
  ['20k', '20,000 msgs/s: fps · max frame gap · handled', '100 % handled'],
]) {
  out.push(
    line([
      label,
      target,
      ...['raw-raf', 'vue-realtime', 'vueuse'].map((lib) => {
        const r = get('j', lib, variant)
        if (!ok(r)) return r ? 'error' : 'n/a'
        return `${r.fps}${lib === 'raw-raf' ? '' : ` (${r.fpsRatio}×)`} · ${r.maxGapMs} ms · ${r.handledPct} %`
      }),
    ]),
  )
}

/** When and under what load a scenario's rows were measured (a filtered run updates only its own rows). */
function measured(scenario) {
  const r = rows.find((x) => x.scenario === scenario && x.measured)
  if (!r) return ''
  const { date, loadAverage } = r.measured
  return ` (measured ${date.slice(0, 10)}, load average ${loadAverage.start[0]} → ${loadAverage.end[0]})`
}
const us = (n) => (n == null ? '–' : `${n} µs`)

out.push('')
out.push(line([`i. server fan-out: 1,000 subscribers, 100 publishes/s${measured('i')}`, 'deliveries/s', 'delivered', 'p50', 'p99', 'p99 × raw', 'p99 × ws-batched', 'server CPU per delivery', 'subscribers\' CPU per delivery']))
out.push('|---|---|---|---|---|---|---|---|---|')
for (const [lib, label] of [
  ['ws', 'raw `ws`, one pre-encoded frame per publish (the limit)'],
  ['ws-batched', 'raw `ws`, the same, each socket corked until the end of the tick'],
  ['vue-realtime', '`createRealtimeServer` (stored, acked publishes)'],
  ['socket.io', 'socket.io room broadcast'],
]) {
  const r = get('i', lib)
  if (!ok(r)) {
    out.push(line([label, r ? r.status : 'n/a', '', '', '', '', '', '', '']))
    continue
  }
  const ratio = (v) => (v == null ? '–' : `${v}×`)
  out.push(line([label, int(r.deliveriesPerSec), `${r.deliveredPct} %`, `${r.p50} ms`, `${r.p99} ms`, ratio(r.p99Ratio), ratio(r.p99RatioBatched), us(r.serverUsPerDelivery), us(r.clientUsPerDelivery)]))
}

out.push('')
out.push(line([`k. cross-node fan-out on one Redis: 3 nodes, 1,000 subscribers, 100 publishes/s for 10 s${measured('k')}`, 'deliveries/s (× socket.io)', 'delivered', 'remote p50', 'remote p99', 'nodes\' CPU per delivery', 'subscribers\' CPU per delivery']))
out.push('|---|---|---|---|---|---|---|')
for (const [lib, label] of [
  ['vue-realtime', '`redisEngine` (target: ≥ socket.io\'s deliveries/s, p99 ≤ 100 ms)'],
  ['socket.io', 'socket.io with `@socket.io/redis-adapter`'],
]) {
  const r = get('k', lib)
  if (!ok(r)) {
    out.push(line([label, r ? r.status : 'n/a', '', '', '', '', '']))
    continue
  }
  out.push(line([label, `${int(r.deliveriesPerSec)} (${r.deliveriesPerSecRatio}×)`, r.delivered, `${r.p50} ms`, `${r.p99} ms`, us(r.nodesUsPerDelivery), us(r.clientUsPerDelivery)]))
}

out.push('')
out.push(line([`l. publish→ack, stored publishes${measured('l')}`, '1 publisher: p50', 'p99', 'acks/s', '50 publishers: p50', 'p99', 'acks/s']))
out.push('|---|---|---|---|---|---|---|')
for (const [lib, label] of [
  ['memory', '`memoryEngine()`'],
  ['sqlite-full', '`sqliteEngine()`, `synchronous: \'full\'`'],
  ['sqlite-normal', '`sqliteEngine()`, `synchronous: \'normal\'`'],
  ['redis', '`redisEngine` (local redis-server)'],
]) {
  const r = get('l', lib)
  if (!ok(r)) {
    out.push(line([label, r ? r.status : 'n/a', '', '', '', '', '']))
    continue
  }
  const ms = (v) => (v == null ? '–' : `${v} ms`)
  out.push(line([label, ms(r.p50), ms(r.p99), int(r.acksPerSec), ms(r.concurrentP50), ms(r.concurrentP99), int(r.concurrentAcksPerSec)]))
}
console.log(out.join('\n'))
