/**
 * History on disk (`dataDir`, `sqliteEngine`) across clean restarts in one process. Crashes,
 * torn writes, a full disk and a second process are in sqlite-crash.test.ts and
 * sqlite-file.test.ts.
 */
import { existsSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { RealtimeServer } from '../../src/server'
import { sqliteEngine, SqliteEngine } from '../../src/server/engine-sqlite'
import { draft } from './engine-conformance'
import { connect, startServer, type TestClient } from './helpers'

let dir = ''
let server: RealtimeServer | null = null
const clients: TestClient[] = []

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vue-realtime-'))
})
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
  await server?.close()
  server = null
  await rm(dir, { recursive: true, force: true })
})

async function restart(options: { historyLimit?: number; dedupeWindow?: number } = {}) {
  await Promise.all(clients.splice(0).map((c) => c.close()))
  await server?.close()
  server = await startServer({ dataDir: dir, ...options })
  return server
}
async function client() {
  const c = await connect(server!.url)
  clients.push(c)
  return c
}

/** Rows of the messages table of a closed database file, read directly. */
function storedRows(file: string): Array<{ topic: string; seq: number }> {
  const db = new Database(file, { readonly: true })
  try {
    return db.prepare('SELECT t.name AS topic, m.seq AS seq FROM messages m JOIN topics t ON t.id = m.topic ORDER BY t.name, m.seq').all() as Array<{ topic: string; seq: number }>
  } finally {
    db.close()
  }
}

describe('dataDir (SQLite) across a restart', () => {
  it('replays history, continues sequences, keeps each topic its epoch and still deduplicates acked ids', async () => {
    await restart()
    expect(server!.engine.name).toBe('sqlite')
    const a = await client()
    const { epoch } = await a.publish('chat', 'a1', 'one')
    await a.publish('chat', 'a2', 'two')
    await a.publish('chat', 'a3', { nested: [1, 2] })
    const other = await server!.publish('other', 'x')
    expect(other.epoch).not.toBe(epoch) // one epoch per topic

    await restart()
    expect(existsSync(join(dir, 'realtime.db'))).toBe(true)
    const b = await client()
    // The epoch lives in the file: a client resumes across the restart.
    expect(await b.subscribe('chat', { since: 1, epoch })).toMatchObject({ seq: 3, epoch, recovered: true })
    expect(b.of('message').map((m) => [m.seq, m.id, m.data])).toEqual([
      [2, 'a2', 'two'],
      [3, 'a3', { nested: [1, 2] }],
    ])
    // A client resending an acked message after the restart gets the old ack, nobody sees it twice.
    expect(await b.publish('chat', 'a2', 'two')).toEqual({ type: 'ack', id: 'a2', seq: 2, epoch })
    expect(await b.publish('chat', 'a4', 'four')).toEqual({ type: 'ack', id: 'a4', seq: 4, epoch })
    await b.waitType('message', (f) => f.seq === 4)
    expect(b.of('message').map((m) => m.seq)).toEqual([2, 3, 4])
    expect(await server!.publish('other', 'y')).toMatchObject({ seq: 2, epoch: other.epoch })
  })

  it('numbers on after a restart when the first use of a topic is a publish, and after its position left the cache', async () => {
    await restart()
    const first = await server!.publish('p', 1)
    await restart()
    // Not read by a subscribe first: the position comes from the file straight into the publish.
    expect(await server!.publish('p', 2)).toMatchObject({ seq: 2, epoch: first.epoch })
    expect(await server!.publish('p', 3)).toMatchObject({ seq: 3, epoch: first.epoch })
    expect((await server!.engine.history('p', { since: 0, limit: 10 })).messages.map((m) => m.seq)).toEqual([1, 2, 3])

    const engine = sqliteEngine({ path: join(dir, 'small-cache.db'), cacheTopics: 1 })
    for (let round = 1; round <= 3; round++) {
      for (const topic of ['x', 'y', 'z']) expect(await engine.publish(draft(topic))).toMatchObject({ seq: round })
    }
    await engine.close()
  })

  it('gives every topic a new epoch when the database file is deleted: a resuming client gets recovered: false', async () => {
    await restart()
    const a = await client()
    const { epoch } = await a.publish('chat', 'a1', 'one')
    await a.publish('chat', 'a2', 'two')
    await server!.close()
    server = null
    await rm(join(dir, 'realtime.db'))
    await restart()
    const b = await client()
    const subscribed = await b.subscribe('chat', { since: 2, epoch })
    expect(subscribed).toMatchObject({ seq: 0, recovered: false })
    expect(subscribed.epoch).not.toBe(epoch)
    expect(await b.publish('chat', 'a1', 'again')).toMatchObject({ seq: 1, epoch: subscribed.epoch })
  })

  it('keeps historyLimit messages per topic on disk, keeping the head, and trims at start when the limit was lowered', async () => {
    await restart({ historyLimit: 5, dedupeWindow: 5 })
    for (let i = 1; i <= 60; i++) await server!.publish('t', i)
    for (let i = 1; i <= 3; i++) await server!.publish('u', i)
    await server!.close()
    server = null
    // Five kept per topic: max(historyLimit, dedupeWindow).
    expect(storedRows(join(dir, 'realtime.db'))).toEqual([...[56, 57, 58, 59, 60].map((seq) => ({ topic: 't', seq })), ...[1, 2, 3].map((seq) => ({ topic: 'u', seq }))])

    await restart({ historyLimit: 2, dedupeWindow: 2 })
    const history = await server!.engine.history('t', { since: 0, limit: 100 })
    expect(history).toMatchObject({ head: 60 })
    expect(history.messages.map((m) => m.seq)).toEqual([59, 60])
    await server!.close()
    server = null
    // Trimmed at start, topics nobody published to since included.
    expect(storedRows(join(dir, 'realtime.db')).map((r) => `${r.topic}${r.seq}`)).toEqual(['t59', 't60', 'u2', 'u3'])
  })
})

describe('a data folder of the JSON-lines store (before SQLite)', () => {
  it('is imported once: each topic keeps its unbroken history and its epoch, acked ids still dedupe; torn and repeated lines are left out', async () => {
    const line = (topic: string, seq: number, id: string | number, data: unknown) => JSON.stringify({ topic, seq, id, data, from: 'c1', ts: 1_700_000_000_000 + seq })
    await writeFile(join(dir, 'epoch'), 'old-epoch\n')
    await writeFile(
      join(dir, 'messages.jsonl'),
      [
        line('chat', 1, 'a1', 'one'),
        line('chat', 2, 'a2', { two: 2 }),
        line('chat', 3, 'a3', 'three'),
        line('chat', 3, 'a3-again', 'a repeated seq (bug 21): the first line is what was served'),
        line('old', 1, 7, 'seq 2 is missing (bug 20): only 3 and 4 are an unbroken run'),
        line('old', 3, 8, 'three'),
        line('old', 4, 9, 'four'),
        '{"topic":"chat","seq":4,"id":"torn","da',
      ].join('\n') + '\n',
    )
    await restart()
    const c = await client()
    expect(await c.subscribe('chat', { since: 0, epoch: 'old-epoch' })).toMatchObject({ seq: 3, epoch: 'old-epoch', recovered: true })
    expect(c.of('message', 'chat').map((m) => [m.seq, m.id, m.data])).toEqual([
      [1, 'a1', 'one'],
      [2, 'a2', { two: 2 }],
      [3, 'a3', 'three'],
    ])
    expect(await c.publish('chat', 'a2', 'resent')).toEqual({ type: 'ack', id: 'a2', seq: 2, epoch: 'old-epoch' })
    expect(await c.publish('chat', 'a4', 'four')).toEqual({ type: 'ack', id: 'a4', seq: 4, epoch: 'old-epoch' })
    expect(await c.subscribe('old', { since: 0, epoch: 'old-epoch' })).toMatchObject({ seq: 4, recovered: false })
    expect(c.of('message', 'old').map((m) => [m.seq, m.id])).toEqual([
      [3, 8],
      [4, 9],
    ])
    // Once: the next start reads the database, not the old file.
    await restart()
    expect((await server!.engine.history('chat', { limit: 0 })).head).toBe(4)
  })
})

describe('sqliteEngine writes', () => {
  it('commits the publishes of one tick as one transaction, numbered in call order', async () => {
    const engine = new SqliteEngine({ path: join(dir, 'batch.db') })
    await engine.ready()
    await engine.publish(draft('b'))
    const before = engine.commits
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => engine.publish(draft(i % 2 ? 'b' : 'c', { id: `m${i}` }))))
    expect(engine.commits).toBe(before + 1)
    expect(results.filter((_, i) => i % 2).map((r) => r.seq)).toEqual(Array.from({ length: 10 }, (_, i) => i + 2))
    expect(results.filter((_, i) => i % 2 === 0).map((r) => r.seq)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1))
    await engine.close()
  })

  it('acks and delivers only after the commit; a failed commit (a full disk) stores, acks and delivers nothing of its batch', async () => {
    const file = join(dir, 'full.db')
    const engine = new SqliteEngine({ path: file })
    await engine.ready()
    const delivered: number[] = []
    const unsubscribe = await engine.subscribe('f', (e) => e.type === 'message' && delivered.push(e.message.seq))
    await engine.publish(draft('f', { id: 'first' }))
    // The database may not grow by one more page: SQLite's own "disk full" (SQLITE_FULL).
    const db = (engine as unknown as { db: Database.Database }).db
    db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`)
    const payload = JSON.stringify('x'.repeat(3000))
    const acked: string[] = []
    let failure: Error | null = null
    for (let i = 0; i < 50 && !failure; i++) {
      const id = `m${i}`
      // Two publishes per tick: one transaction, failing or succeeding together.
      const results = await Promise.allSettled([engine.publish(draft('f', { id, data: payload })), engine.publish(draft('f', { id: `${id}b`, data: payload }))])
      for (const [k, r] of results.entries()) {
        if (r.status === 'fulfilled') acked.push(k ? `${id}b` : id)
        else failure = r.reason as Error
      }
      if (failure) expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected'])
    }
    expect(failure?.message).toMatch(new RegExp(`cannot write to .*full\\.db: the disk is full\\. Free space`))
    expect((failure as Error & { code?: string }).code).toBe('SQLITE_FULL')
    const count = acked.length + 1
    expect(delivered).toEqual(Array.from({ length: count }, (_, i) => i + 1))
    expect((await engine.history('f', { limit: 0 })).head).toBe(count)
    // Space again: the retries are stored once each, with the next numbers.
    db.pragma('max_page_count = 1073741823')
    const retried = await Promise.all([engine.publish(draft('f', { id: 'retry-a' })), engine.publish(draft('f', { id: 'retry-b' }))])
    expect(retried.map((r) => r.seq)).toEqual([count + 1, count + 2])
    expect(delivered).toEqual(Array.from({ length: count + 2 }, (_, i) => i + 1))
    await unsubscribe()
    await engine.close()
  })

  it('refuses a publisher user that is not JSON without failing the other publishes of its tick', async () => {
    const engine = sqliteEngine({ path: join(dir, 'user.db') })
    const [bad, good] = await Promise.allSettled([engine.publish(draft('u', { user: { big: 10n } })), engine.publish(draft('u'))])
    expect(bad).toMatchObject({ status: 'rejected', reason: expect.objectContaining({ message: expect.stringMatching(/user .*JSON/) }) })
    expect(good).toMatchObject({ status: 'fulfilled', value: { seq: 1 } })
    await engine.close()
  })

  it('validates its options and refuses use after close', async () => {
    expect(() => sqliteEngine({ path: '' })).toThrow(/needs a file path.*memoryEngine/)
    expect(() => sqliteEngine({ path: ':memory:' })).toThrow(/needs a file path/)
    expect(() => sqliteEngine({ path: join(dir, 'x.db'), synchronous: 'off' as 'full' })).toThrow(/"synchronous" must be 'full' or 'normal'/)
    expect(() => sqliteEngine({ path: join(dir, 'x.db'), cacheTopics: 0 })).toThrow(/cacheTopics.*integer >= 1/)
    const engine = sqliteEngine({ path: join(dir, 'nested/deeper/x.db') })
    await engine.ready()
    expect(existsSync(join(dir, 'nested/deeper/x.db'))).toBe(true)
    await engine.close()
    await expect(engine.publish(draft('t'))).rejects.toThrow(/closed; create a new one/)
  })
})
