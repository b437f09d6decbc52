/**
 * Bounded memory on SQLite (issue 13: "the SQLite and Redis engines keep history on disk, but
 * cap what they cache"): a topic flood from 20 connections, far more topics and bytes than the
 * engine caches, against a server in a child process started with --expose-gc. After a GC the
 * heap grew by a fixed overhead only, every topic and message is on disk, and the subscribers of
 * live topics lost nothing.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { killServerProcesses, startServerProcess, type ServerProcess } from '../support/serverProcess'
import { waitFor } from '../support/wait'
import { connect, type TestClient } from './helpers'

/** Topic positions the engine may cache (`cacheTopics`); the flood makes twenty times as many topics. */
const CACHED_TOPICS = 1000
const FLOODERS = 20
const PER_FLOODER = (20 * CACHED_TOPICS) / FLOODERS
const PAYLOAD = 'x'.repeat(1024)
const LIVE_TOPICS = 3
const LIVE_MESSAGES = 200
/**
 * What the heap may grow by: V8's slack after a GC, code compiled during the flood, socket
 * buffers. Fixed, far below the 20 MiB the flood sends, and below what caching all 20,000
 * topic positions would take (about 4 MiB), so it also holds the cache to its cap.
 */
const FIXED_OVERHEAD = 2 * 1024 * 1024

let dir = ''
let server: ServerProcess
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vue-realtime-memory-sqlite-'))
  server = await startServerProcess({
    sqlite: { path: join(dir, 'realtime.db'), cacheTopics: CACHED_TOPICS, cacheBytes: 4 * 1024 * 1024 },
    server: { rateLimit: false, newTopicLimit: false },
    execArgv: ['--expose-gc'],
  })
})
afterAll(async () => {
  await server.close().catch(() => killServerProcesses())
  await rm(dir, { recursive: true, force: true })
})

/** Sends every frame, then waits for one answer per frame. */
async function publishAll(c: TestClient, topics: (i: number) => string, count: number, data: unknown, prefix: string): Promise<void> {
  for (let i = 0; i < count; i++) c.send({ type: 'publish', topic: topics(i), id: `${prefix}-${i}`, data })
  await waitFor(() => c.of('ack').length + c.of('error').length >= count, { timeout: 120_000, message: `${count} answers for ${prefix}` })
  expect(c.of('error')).toEqual([])
}

describe('bounded memory on SQLite', () => {
  it('keeps the heap to a fixed overhead through a flood of twenty times the cached topics, with everything on disk', { timeout: 240_000 }, async () => {
    // Warm up past the cache, so its entries and the compiled code are in the baseline.
    const warm = await connect(server.url)
    await publishAll(warm, (i) => `warm:${i}`, 2 * CACHED_TOPICS, PAYLOAD, 'warm')
    await warm.close()
    const baseline = await server.stats()

    const subscribers = await Promise.all(Array.from({ length: LIVE_TOPICS }, () => connect(server.url)))
    await Promise.all(subscribers.map((c, t) => c.subscribe(`live:${t}`)))
    const livePublisher = await connect(server.url)
    const flooders = await Promise.all(Array.from({ length: FLOODERS }, () => connect(server.url)))
    await Promise.all([
      ...flooders.map((c, f) => publishAll(c, (i) => `flood:${f}:${i}`, PER_FLOODER, PAYLOAD, `f${f}`)),
      publishAll(livePublisher, (i) => `live:${i % LIVE_TOPICS}`, LIVE_TOPICS * LIVE_MESSAGES, { n: 'live' }, 'live'),
    ])
    await Promise.all(flooders.map((c) => c.close()))

    for (const [t, c] of subscribers.entries()) {
      await waitFor(() => c.of('message', `live:${t}`).length >= LIVE_MESSAGES, { timeout: 20_000, message: `live:${t} delivered` })
      expect(c.of('message', `live:${t}`).map((m) => m.seq)).toEqual(Array.from({ length: LIVE_MESSAGES }, (_, i) => i + 1))
    }
    // Any flooded topic reads back from disk, long after it left the cache.
    const reader = await connect(server.url)
    const replay = await reader.subscribe('flood:0:0', { since: 0 })
    expect(replay).toMatchObject({ seq: 1, recovered: true })
    expect(reader.of('message')).toHaveLength(1)
    await reader.close()

    const after = await server.stats()
    const grown = after.heapUsed - baseline.heapUsed
    expect(after.topics).toBe(2 * CACHED_TOPICS + FLOODERS * PER_FLOODER + LIVE_TOPICS)
    expect(grown).toBeLessThan(FIXED_OVERHEAD)
    expect(after.errors).toEqual([])
    const mib = (n: number) => (n / 2 ** 20).toFixed(1)
    console.log(
      `[memory:sqlite] heap ${mib(baseline.heapUsed)} → ${mib(after.heapUsed)} MiB (+${mib(grown)}), RSS ${mib(baseline.rss)} → ${mib(after.rss)} MiB, after ${mib(FLOODERS * PER_FLOODER * PAYLOAD.length)} MiB to ${FLOODERS * PER_FLOODER} new topics (${after.topics} on disk, ${CACHED_TOPICS} cached)`,
    )
    await Promise.all([livePublisher, ...subscribers].map((c) => c.close()))
  })
})
