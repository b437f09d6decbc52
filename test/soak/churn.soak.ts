/**
 * Soak (issue 9): 2,000 connections churning (connect, subscribe, publish, disconnect) for
 * 60 s against one node on SQLite. The server runs in a child process (--expose-gc) and the
 * clients in another. Checked: no error anywhere, every publish acked once, every stream
 * contiguous, each topic's acks are exactly its stored seqs; memory back to its baseline after
 * a GC; no handle left once the clients are gone. The figures are printed.
 *
 * SOAK_SECONDS (default 60) and SOAK_CONNECTIONS (default 2000) scale it.
 */
import { fork } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connect } from '../server/helpers'
import { killServerProcesses, startServerProcess, type ServerProcess, type ServerStats } from '../support/serverProcess'
import { waitFor } from '../support/wait'

const SECONDS = Number(process.env.SOAK_SECONDS ?? 60)
const CONNECTIONS = Number(process.env.SOAK_CONNECTIONS ?? 2000)
const TOPICS = 200
const WARMUP_SECONDS = 5
/**
 * What the heap may keep after the run, beyond the warmed-up baseline: V8's slack after a GC
 * and code compiled late. Fixed: it does not grow with the run's length or connection count.
 */
const HEAP_SLACK = 8 * 1024 * 1024
/**
 * What RSS may keep: SQLite's page cache (16 MiB by default) and what the allocator holds on to
 * after the peak of 2,000 connections' socket buffers (measured: 12-43 MiB). A per-connection
 * leak over the run's ten thousand connections would pass it.
 */
const RSS_SLACK = 128 * 1024 * 1024

interface ChurnReport {
  /** Most connections open at once. */
  peakOpen: number
  connections: number
  publishes: number
  acks: number
  messages: number
  presence: number
  errors: string[]
  unexpectedCloses: string[]
  streamFaults: string[]
  topics: Record<string, { epoch: string; count: number; unique: number; max: number }>
  seconds: number
}

let dir = ''
let server: ServerProcess
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vue-realtime-soak-'))
  server = await startServerProcess({ dataDir: dir, execArgv: ['--expose-gc'] })
})
afterAll(async () => {
  await server.close().catch(() => killServerProcesses())
  await rm(dir, { recursive: true, force: true })
})

function churn(connections: number, seconds: number): Promise<ChurnReport> {
  const child = fork(join(__dirname, 'churn.mjs'), [server.url, String(connections), String(seconds), String(TOPICS)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  return new Promise((resolve, reject) => {
    // Bounded: the run, then every connection's last life (its waits are bounded too).
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`the soak clients did not finish within ${seconds + 60} s`))
    }, (seconds + 60) * 1000)
    child.once('message', (report) => {
      clearTimeout(timer)
      resolve(report as ChurnReport)
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`the soak clients exited (${code}) without a report`))
    })
  })
}

/** Server stats once every client is gone (their closes are processed). */
async function settled(): Promise<ServerStats> {
  await waitFor(async () => (await server.stats()).clients === 0, { timeout: 30_000, message: 'every client gone from the server' })
  return server.stats()
}

const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`

describe('soak', () => {
  it(`${CONNECTIONS} connections churning for ${SECONDS} s: no error, every publish acked once, memory back to baseline, no handle left`, async () => {
    const cold = await server.stats()
    // Warm up (compiled code, caches, V8's heap layout), then take the baseline.
    const warm = await churn(Math.min(200, CONNECTIONS), WARMUP_SECONDS)
    expect(warm.errors).toEqual([])
    const baseline = await settled()

    const report = await churn(CONNECTIONS, SECONDS)
    const end = await settled()

    console.log(
      `[soak] ${CONNECTIONS} connections, ${report.seconds.toFixed(0)} s: ${report.peakOpen} open at most, ${report.connections} connects, ${report.publishes} publishes, ${report.acks} acks, ${report.messages} messages, ${report.presence} presence events\n` +
        `[soak] heap ${mib(cold.heapUsed)} cold, ${mib(baseline.heapUsed)} warmed up, ${mib(end.heapUsed)} at the end; RSS ${mib(cold.rss)} cold, ${mib(baseline.rss)} warmed up, ${mib(end.rss)} at the end\n` +
        `[soak] handles at the end: ${end.resources.length} (${end.resources.join(', ')}); at the baseline: ${baseline.resources.length}`,
    )
    expect(report.errors).toEqual([])
    expect(report.unexpectedCloses).toEqual([])
    expect(report.streamFaults).toEqual([])
    expect(end.errors).toEqual([])
    expect(report.connections).toBeGreaterThanOrEqual(CONNECTIONS)
    expect(report.acks).toBe(report.publishes)

    // Every topic's acks (warm-up and run) are exactly its stored messages 1..head, each once.
    // Fifty topics per checking connection: within its topic and frame-rate limits.
    const topics = Object.keys(report.topics)
    await Promise.all(
      Array.from({ length: Math.ceil(topics.length / 50) }, async (_, k) => {
        const check = await connect(server.url)
        for (const topic of topics.slice(k * 50, k * 50 + 50)) {
          const acks = report.topics[topic].count + (warm.topics[topic]?.count ?? 0)
          const subscribed = await check.subscribe(topic)
          expect({ topic, head: subscribed.seq, epoch: subscribed.epoch }).toEqual({ topic, head: acks, epoch: report.topics[topic].epoch })
          expect(report.topics[topic].unique).toBe(report.topics[topic].count)
        }
        await check.close()
      }),
    )

    // Bounded memory: back to the warmed-up baseline, whatever the run's length.
    expect(end.heapUsed - baseline.heapUsed).toBeLessThan(HEAP_SLACK)
    expect(end.rss - baseline.rss).toBeLessThan(RSS_SLACK)
    // No handle leak: the same handles as before the run (the listening socket, the IPC channel, the presence timer...).
    expect((await settled()).resources).toEqual(baseline.resources)
  })
})
