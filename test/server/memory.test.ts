/**
 * Bounded memory (issue 13): a topic flood from 20 connections, ten times the memory cap's worth
 * of traffic, against a server in a child process started with --expose-gc. After a GC, the
 * server's heap grew by at most the cap plus a fixed overhead, and the subscribers of live
 * topics lost nothing.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { build } from 'esbuild'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connect, type TestClient } from './helpers'
import { waitFor } from '../support/wait'

/** The engine's byte cap in the child (`memoryEngine({ maxBytes })`). */
const CAP = 4 * 1024 * 1024
/** Ten times the cap's worth of payload bytes. */
const TRAFFIC = 10 * CAP
const FLOODERS = 20
const PAYLOAD = 'x'.repeat(1024)
const PER_FLOODER = Math.ceil(TRAFFIC / PAYLOAD.length / FLOODERS)
const LIVE_TOPICS = 3
const LIVE_MESSAGES = 200
/**
 * What the heap may grow by beyond the cap: V8's own slack after a GC, code compiled during
 * the flood, and socket buffers. Fixed, independent of the traffic.
 */
const FIXED_OVERHEAD = 4 * 1024 * 1024

let child: ChildProcess
let url = ''

interface Measure {
  heap: number
  topics: number
}

function ask(message: string): Promise<Measure> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server child did not answer "${message}" within 20 s`)), 20_000)
    child.once('message', (m) => {
      clearTimeout(timer)
      resolve(m as Measure)
    })
    child.send(message)
  })
}

beforeAll(async () => {
  // Inside the project, so the bundle's `ws` import resolves to node_modules.
  const cache = join(__dirname, '../../node_modules/.cache')
  mkdirSync(cache, { recursive: true })
  const dir = mkdtempSync(join(cache, 'vue-realtime-memory-'))
  const bundle = join(dir, 'server.mjs')
  await build({ entryPoints: [join(__dirname, '../../src/server/index.ts')], bundle: true, format: 'esm', platform: 'node', packages: 'external', loader: { '.lua': 'text' }, outfile: bundle, logLevel: 'silent' })
  const script = join(dir, 'child.mjs')
  writeFileSync(
    script,
    `import { createRealtimeServer, memoryEngine } from ${JSON.stringify(bundle)}
const engine = memoryEngine({ maxBytes: ${CAP} })
const server = createRealtimeServer({ port: 0, engine, rateLimit: false, newTopicLimit: false })
await server.ready
async function measure() {
  for (let i = 0; i < 4; i++) {
    globalThis.gc()
    await new Promise((resolve) => setImmediate(resolve))
  }
  return { heap: process.memoryUsage().heapUsed, topics: (await engine.topics()).length }
}
process.on('message', async (message) => {
  if (message === 'measure') process.send(await measure())
  if (message === 'exit') {
    await server.close()
    await engine.close()
    process.disconnect()
  }
})
process.send({ port: server.port })
`,
  )
  child = fork(script, [], { cwd: join(__dirname, '../..'), execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const { port } = await new Promise<{ port: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the server child did not start within 10 s')), 10_000)
    child.once('message', (m) => {
      clearTimeout(timer)
      resolve(m as { port: number })
    })
    child.once('exit', (code) => reject(new Error(`the server child exited early (${code})`)))
  })
  url = `ws://127.0.0.1:${port}/`
})

afterAll(async () => {
  if (!child.connected) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.send('exit')
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000)
  await exited
  clearTimeout(timer)
})

/** Sends every frame, then waits for one ack per frame. */
async function publishAll(c: TestClient, topics: (i: number) => string, count: number, data: unknown, prefix: string): Promise<void> {
  for (let i = 0; i < count; i++) c.send({ type: 'publish', topic: topics(i), id: `${prefix}-${i}`, data })
  await waitFor(() => c.of('ack').length + c.of('error').length >= count, { timeout: 60_000, message: `${count} answers for ${prefix}` })
  expect(c.of('error')).toEqual([])
}

describe('bounded memory', () => {
  it('keeps the heap under the cap plus a fixed overhead through a topic flood, and live subscribers lose nothing', { timeout: 180_000 }, async () => {
    // Warm up: the code paths the flood takes are compiled before the baseline.
    const warm = await connect(url)
    await publishAll(warm, (i) => `warm:${i}`, 500, PAYLOAD, 'warm')
    await warm.close()
    const baseline = await ask('measure')

    const subscribers = await Promise.all(Array.from({ length: LIVE_TOPICS }, () => connect(url)))
    await Promise.all(subscribers.map((c, t) => c.subscribe(`live:${t}`)))
    const livePublisher = await connect(url)
    const flooders = await Promise.all(Array.from({ length: FLOODERS }, () => connect(url)))
    await Promise.all([
      ...flooders.map((c, f) => publishAll(c, (i) => `flood:${f}:${i}`, PER_FLOODER, PAYLOAD, `f${f}`)),
      publishAll(livePublisher, (i) => `live:${i % LIVE_TOPICS}`, LIVE_TOPICS * LIVE_MESSAGES, { n: 'live' }, 'live'),
    ])
    await Promise.all(flooders.map((c) => c.close()))

    for (const [t, c] of subscribers.entries()) {
      await waitFor(() => c.of('message', `live:${t}`).length >= LIVE_MESSAGES, { timeout: 20_000, message: `live:${t} delivered` })
      expect(c.of('message', `live:${t}`).map((m) => m.seq)).toEqual(Array.from({ length: LIVE_MESSAGES }, (_, i) => i + 1))
    }
    const after = await ask('measure')
    const grown = after.heap - baseline.heap
    // The flood made far more topics than were kept: the caps, not the traffic, set the size.
    expect(after.topics).toBeLessThan((FLOODERS * PER_FLOODER) / 4)
    expect(grown).toBeLessThan(CAP + FIXED_OVERHEAD)
    console.log(`[memory] heap +${(grown / 2 ** 20).toFixed(1)} MiB after ${(TRAFFIC / 2 ** 20).toFixed(0)} MiB to ${FLOODERS * PER_FLOODER} topics (cap ${CAP / 2 ** 20} MiB); ${after.topics} topics held`)
    await Promise.all([livePublisher, ...subscribers].map((c) => c.close()))
  })
})
