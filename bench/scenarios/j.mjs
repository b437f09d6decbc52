// j. Browser firehose (issue 11's "b"): a Vue component renders the last 200 messages while a
// server streams ~100-byte JSON messages to it, in Debian Chromium (playwright-core, headless).
// 1 s of settling before the stream, 2 s of stream, 1.5 s after. The page is
// test/support/firehosePage.ts (shared with test/e2e/firehose.e2e.test.ts):
//   raw-raf       a raw WebSocket that pushes into an array and triggers once per animation frame (the baseline)
//   vue-realtime  useWebSocket's `messages` (maxMessages 200, default flush)
//   vueuse        VueUse's useWebSocket, onMessage pushing into a ref([]) kept at 200
// Measured: frames per second during the stream, the longest gap between two frames, and the
// share of the stream the page had handled 1.5 s after the server finished sending.
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { chromium } from 'playwright-core'
import { load, ROOT, TMP } from '../lib/build.mjs'
import { round, sleep } from '../lib/util.mjs'

const KEEP = 200
const SETTLE_MS = 1000
const STREAM_S = 2
const AFTER_MS = 1500
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
// The flags test/e2e/helpers.ts uses.
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic']

export const meta = {
  id: 'j',
  title: `Browser firehose (Chromium, headless): a Vue component renders the last ${KEEP} messages; ${STREAM_S} s of stream`,
  adapter: false,
  libraries: ['raw-raf', 'vue-realtime', 'vueuse'],
  variants: [
    { id: '5k', label: '5,000 msgs/s', rate: 5_000 },
    { id: '20k', label: '20,000 msgs/s', rate: 20_000 },
  ],
  rounds: 5,
  peerRounds: 1,
  baseline: 'raw-raf',
  ratios: [{ key: 'fps', label: 'fps × raw per-frame page' }],
  timeoutMs: 60_000,
  columns: [
    { key: 'fps', label: 'fps' },
    { key: 'maxGapMs', label: 'max frame gap (ms)' },
    { key: 'handledPct', label: 'handled by the end', format: (v) => `${v} %` },
    { key: 'rendersPerSec', label: 'renders/s' },
  ],
  note: `raw-raf is a raw WebSocket page that triggers the same component once per animation frame. Targets: 100 % handled at 20,000 msgs/s; at 5,000 msgs/s fps within 5 % of raw-raf's and no frame gap over 34 ms.`,
}

/** The page bundle, built once per bench build (bench/.tmp/firehose-page.js). */
async function pageScript(harness) {
  const file = path.join(TMP, 'firehose-page.js')
  const built = path.join(TMP, 'build.json')
  if (existsSync(file) && existsSync(built) && statSync(file).mtimeMs >= statSync(built).mtimeMs) return readFileSync(file, 'utf8')
  const script = await harness.buildFirehosePage(ROOT)
  writeFileSync(file, script)
  return script
}

export async function run({ library, variant }) {
  const harness = await load('firehose')
  const server = await harness.startFirehoseServer(await pageScript(harness))
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30_000 })
  try {
    const page = await browser.newPage()
    const errors = []
    page.on('pageerror', (e) => errors.push(e.message))
    await page.goto(server.pageUrl(library, { keep: String(KEEP) }))
    await page.waitForFunction(() => window.__firehose?.open, undefined, { timeout: 10_000, polling: 50 })
    await sleep(SETTLE_MS)
    const { sent, startedAt, endedAt } = await server.stream(variant.rate, STREAM_S)
    await sleep(AFTER_MS)
    const stats = await page.evaluate(() => {
      const s = window.__firehose
      return { frames: s.frames, samples: s.samples, renderTimes: s.renderTimes }
    })
    if (errors.length) throw new Error(`page error: ${errors[0]}`)
    return measure(stats, { sent, startedAt, endedAt })
  } finally {
    await browser.close()
    await server.close()
  }
}

/** fps and the longest frame gap over the stream; what share was handled AFTER_MS after it ended. */
export function measure({ frames, samples, renderTimes }, { sent, startedAt, endedAt }) {
  const inside = frames.filter((t) => t >= startedAt && t <= endedAt)
  // Gaps that overlap the stream, including the ones across its edges.
  const around = frames.filter((t, i) => t <= endedAt && (frames[i + 1] ?? Infinity) >= startedAt)
  let maxGap = 0
  for (let i = 1; i < around.length; i++) maxGap = Math.max(maxGap, around[i] - around[i - 1])
  const last = samples.filter(([t]) => t <= endedAt + AFTER_MS).at(-1)?.[1] ?? 0
  const handledAtEnd = samples.filter(([t]) => t <= endedAt).at(-1)?.[1] ?? 0
  const seconds = (endedAt - startedAt) / 1000
  return {
    fps: round(inside.length / seconds, 1),
    maxGapMs: Math.round(maxGap),
    handledPct: round((Math.min(last, sent) / sent) * 100, 1),
    handledWhenSentPct: round((Math.min(handledAtEnd, sent) / sent) * 100, 1),
    rendersPerSec: Math.round(renderTimes.filter((t) => t >= startedAt && t <= endedAt).length / seconds),
    sent,
  }
}
