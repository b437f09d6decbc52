import { appendFile, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { RealtimeServer } from '../../src/server'
import { JsonlStore } from '../../src/server/store-jsonl'
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

async function restart() {
  await Promise.all(clients.splice(0).map((c) => c.close()))
  await server?.close()
  server = await startServer({ dataDir: dir })
  return server
}
async function client() {
  const c = await connect(server!.url)
  clients.push(c)
  return c
}

describe('JsonlStore across a restart', () => {
  it('replays history, continues sequences and still deduplicates acked ids', async () => {
    await restart()
    const a = await client()
    const { epoch } = await a.publish('chat', 'a1', 'one')
    await a.publish('chat', 'a2', 'two')
    await a.publish('chat', 'a3', { nested: [1, 2] })
    await server!.publish('other', 'x')

    await restart()
    const b = await client()
    // The epoch lives in the data folder: a client resumes across the restart.
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
    expect((await server!.publish('other', 'y')).seq).toBe(2)
  })

  it('skips a torn last line left by a crash', async () => {
    await restart()
    const a = await client()
    await a.publish('t', 'ok', 1)
    await restart() // flushes and closes the file
    await appendFile(join(dir, 'messages.jsonl'), '{"topic":"t","seq":2,"id":"torn","da')
    await restart()
    const b = await client()
    expect(await b.subscribe('t', { since: 0 })).toMatchObject({ seq: 1, recovered: true })
    expect((await b.publish('t', 'next', 2)).seq).toBe(2)
  })

  it('trims to historyLimit and compacts the file, keeping the head', async () => {
    const store = new JsonlStore(dir, { historyLimit: 5, compactSlack: 10 })
    await store.load()
    for (let seq = 1; seq <= 60; seq++) await store.append({ topic: 't', seq, id: `m${seq}`, data: seq, from: 'server', ts: seq })
    await store.close()
    const lines = (await readFile(join(dir, 'messages.jsonl'), 'utf8')).trim().split('\n')
    expect(lines.length).toBeLessThanOrEqual(2 * 5 + 10 + 1)

    const reloaded = new JsonlStore(dir, { historyLimit: 5 })
    await reloaded.load()
    expect(reloaded.head('t')).toBe(60)
    expect(reloaded.oldest('t')).toBe(56)
    expect(reloaded.since('t', 57, 10).map((m) => m.seq)).toEqual([58, 59, 60])
    await reloaded.close()
  })

  it('writes appends made in one tick as one batch, in order', async () => {
    const store = new JsonlStore(dir, { fsync: true })
    await store.load()
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.append({ topic: 'b', seq: i + 1, id: i, data: null, from: 'x', ts: 0 })))
    await store.close()
    const seqs = (await readFile(join(dir, 'messages.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { seq: number }).seq)
    expect(seqs).toEqual(Array.from({ length: 20 }, (_, i) => i + 1))
  })

  it('keeps history in dataDir', async () => {
    server = await startServer({ dataDir: dir })
    await server.publish('d', 1)
    await server.close()
    server = await startServer({ dataDir: dir })
    expect((await server.publish('d', 2)).seq).toBe(2)
  })
})
