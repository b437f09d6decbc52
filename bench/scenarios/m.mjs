// m. One socket across tabs (tabSharing()), in headless Chromium: pages of one browser
// context on http://127.0.0.1, the protocol server publishing a numbered message every 10 ms.
// - sockets held by N tabs (and without sharing);
// - hand-over, RUNS times each, when the leading tab closes, crashes (CDP Page.crash), is
//   frozen (the page gets `freeze`, then stops: headless Chromium never hides a page, and only
//   hidden pages can be frozen through CDP, so the event is dispatched and the page paused in
//   the debugger) or stops running without an event (Debugger.pause alone: a follower steals
//   after 3 silent beats and an unanswered ping):
//   time from the act to the new socket open (server side) and to the first message each
//   follower shows after it; messages lost or shown twice in any remaining tab; time two
//   sockets were open at once;
// - fan-out: time from the leader showing a message to each follower showing it.
// Other libraries share no connection across tabs (one socket per tab): not applicable.
import path from 'node:path'
import { chromium } from 'playwright-core'
import { built, ROOT, Skip } from '../lib/build.mjs'
import { percentile, round } from '../lib/util.mjs'

const RUNS = Number(process.env.BENCH_TABS_RUNS ?? 20)
const KINDS = ['close', 'crash', 'freeze', 'pause']
const TABS = [1, 2, 4, 8]
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic']

export const meta = {
  id: 'm',
  title: `One socket across tabs (Chromium; hand-over × ${RUNS} per kind)`,
  adapter: false,
  libraries: ['vue-realtime'],
  concurrency: 1,
  timeoutMs: 20 * 60_000,
  notApplicable: ['ws', 'vueuse', 'reconnecting-websocket', 'partysocket', 'socket.io'].map((library) => ({ library, reason: 'no sharing across tabs: one socket per tab' })),
  columns: [
    { key: 'sockets', label: `sockets for ${TABS.join('/')} tabs` },
    { key: 'socketsOff', label: 'same, sharing off' },
    { key: 'closeSocket', label: 'close → new socket p50/p95 (ms)' },
    { key: 'closeFirst', label: 'close → first message p50/p95 (ms)' },
    { key: 'lostDup', label: 'lost / doubled (all kinds)' },
    { key: 'fanout', label: 'fan-out p50/p95 (ms)' },
  ],
}

const ms = (values, digits = 1) => (values.length ? `${round(percentile(values, 50), digits)} / ${round(percentile(values, 95), digits)}` : '–')
const now = () => performance.timeOrigin + performance.now()

export function finish(rows) {
  const row = rows.find((r) => r.status === 'ok')
  if (!row) return
  const lines = [
    '| hand-over | runs | → new socket p50 / p95 (ms) | → first message, per follower, p50 / p95 (ms) | lost | doubled | two sockets open (ms, max) |',
    '|---|---|---|---|---|---|---|',
    ...KINDS.map((k) => {
      const d = row.kinds[k]
      return `| ${k} | ${d.runs} | ${d.toSocket} | ${d.toFirst} | ${d.lost} | ${d.doubled} | ${d.overlapMax} |`
    }),
  ]
  meta.note = `Hand-over detail (3 tabs, a message every 10 ms): ${row.note}\n\n${lines.join('\n')}`
}

export async function run() {
  const s = await built('tabs')
  if (!s.ok) throw new Skip(`tabs harness: ${s.reason}`)
  const h = await import(s.file)
  const page = path.join(ROOT, 'test/e2e/tabs/page.ts')
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout: 30_000 })
  try {
    const fresh = async (fn) => {
      const server = await h.startTabsServer(page, path.join(ROOT, 'test/e2e/tabs/worker.ts'))
      const context = await browser.newContext()
      try {
        return await fn(server, context)
      } finally {
        await context.close()
        await server.close()
      }
    }
    const openTabs = async (server, context, n, query) => {
      const pages = []
      for (let i = 0; i < n; i++) pages.push(await h.openTab(context, server, query))
      return pages
    }

    // Sockets per N tabs, shared and not.
    const sockets = []
    const socketsOff = []
    for (const n of TABS) {
      for (const [query, out] of [['mode=plain', sockets], ['mode=plain&share=off', socketsOff]]) {
        await fresh(async (server, context) => {
          await openTabs(server, context, n, query)
          out.push(server.maxOpen)
        })
      }
    }

    // Fan-out: leader → follower, 200 messages, each arrival timed on this process's clock (pages'
    // clocks are not comparable to a millisecond): a binding the page calls on every message.
    const fanout = await fresh(async (server, context) => {
      const marks = new Map()
      await context.exposeBinding('benchMark', ({ page }, seq) => {
        const at = now()
        if (!marks.has(page)) marks.set(page, new Map())
        marks.get(page).set(seq, at)
      })
      const pages = await openTabs(server, context, 3, 'mode=protocol')
      const leader = await h.waitForOneLeader(pages)
      const stream = h.startStream(server)
      try {
        for (const p of pages) await h.waitForMoreSeqs(p, 200)
      } finally {
        await stream.stop()
      }
      const lead = marks.get(leader)
      const out = []
      for (const p of pages.filter((p) => p !== leader)) for (const [seq, at] of marks.get(p) ?? []) if (lead.has(seq)) out.push(at - lead.get(seq))
      return out
    })

    const kinds = {}
    for (const kind of KINDS) {
      const toSocket = []
      const toFirst = []
      const overlaps = []
      let lost = 0
      let doubled = 0
      for (let i = 0; i < RUNS; i++) {
        await fresh(async (server, context) => {
          const pages = await openTabs(server, context, 3, 'mode=protocol')
          const leader = await h.waitForOneLeader(pages)
          const others = pages.filter((p) => p !== leader)
          const connections = []
          server.realtime.on('connection', () => connections.push(now()))
          const stream = h.startStream(server)
          try {
          for (const p of pages) await h.waitForMoreSeqs(p, 10)
          const overlapBefore = server.overlapMs
          let cdp
          if (kind !== 'close') cdp = await context.newCDPSession(leader)
          const t0 = now()
          if (kind === 'close') await leader.close()
          else if (kind === 'crash') void cdp.send('Page.crash').catch(() => {})
          else {
            if (kind === 'freeze') await leader.evaluate(() => document.dispatchEvent(new Event('freeze')))
            await cdp.send('Debugger.enable')
            await cdp.send('Debugger.pause')
          }
          await h.waitForOneLeader(others)
          for (const p of others) await h.waitForMoreSeqs(p, 10)
          const socketAt = connections.find((t) => t >= t0)
          toSocket.push(socketAt - t0)
          for (const p of others) {
            const first = (await p.evaluate(() => window.tab.state.events)).find((e) => e.what === 'seq' && e.at >= socketAt)
            toFirst.push(first.at - t0)
          }
          if (kind === 'pause' || kind === 'freeze') await cdp.send('Debugger.resume')
          if (kind === 'freeze') await leader.evaluate(() => document.dispatchEvent(new Event('resume')))
          const last = await stream.stop()
          for (const p of others) await h.waitForSeq(p, last)
          await server.waitForOpen(1)
          overlaps.push(server.overlapMs - overlapBefore)
          for (const p of others) {
            const d = h.defects(await h.seqs(p))
            lost += d.missing.length
            doubled += d.repeated.length
          }
          } finally {
            await stream.stop()
          }
        })
      }
      kinds[kind] = { runs: RUNS, toSocket: ms(toSocket), toFirst: ms(toFirst), lost, doubled, overlapMax: round(Math.max(...overlaps), 0), raw: { toSocket, toFirst, overlaps } }
    }

    const lost = KINDS.reduce((n, k) => n + kinds[k].lost, 0)
    const doubled = KINDS.reduce((n, k) => n + kinds[k].doubled, 0)
    return {
      sockets: sockets.join('/'),
      socketsOff: socketsOff.join('/'),
      closeSocket: kinds.close.toSocket,
      closeFirst: kinds.close.toFirst,
      lostDup: `${lost} / ${doubled}`,
      fanout: ms(fanout, 2),
      kinds: Object.fromEntries(Object.entries(kinds).map(([k, v]) => [k, { ...v, raw: undefined }])),
      note: `"pause" stops the leader without an event (as a frozen page that never got \`freeze\`): a visible follower waits 3 silent beats (1 s each) and an unanswered ping before it steals, by design; the paused page keeps its socket until it runs again.`,
    }
  } finally {
    await browser.close()
  }
}
