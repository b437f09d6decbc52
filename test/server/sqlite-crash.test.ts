/**
 * The SQLite engine under the faults of the JSON-lines store's bugs (issue 14, bugs 20 and
 * 21), in real processes: SIGKILL during a write burst, a torn write at the end of the WAL, a
 * full disk (`ulimit -f`), a failing WAL checkpoint (the maintenance step), and an OS restart
 * under `synchronous: 'normal'`.
 */
import { closeSync, openSync, readFileSync, statSync, writeSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { SqliteEngine } from '../../src/server/engine-sqlite'
import { killServerProcesses, startServerProcess, type ServerProcessConfig } from '../support/serverProcess'
import { waitFor } from '../support/wait'
import { draft } from './engine-conformance'
import { connect, type Frame, type TestClient } from './helpers'

let dir = ''
let path = ''
const clients: TestClient[] = []
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vue-realtime-crash-'))
  path = join(dir, 'realtime.db')
})
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
  await killServerProcesses()
  await rm(dir, { recursive: true, force: true })
})

async function client(url: string): Promise<TestClient> {
  const c = await connect(url)
  clients.push(c)
  return c
}

const TOPICS = ['burst:a', 'burst:b']
/** Publishes per publisher and turn of the send loop, and at most in all (bounded). */
const BURST = 20
const MAX_PER_PUBLISHER = 1500
const ROUNDS = 3
const PUBLISHERS = 3
/**
 * Room for every message the test can send in history and in one replay, however far the
 * burst gets before a kill lands (a loaded machine acks slower while the loop keeps sending);
 * no rate limit (the burst is far above 100 frames/s).
 */
const LIMIT = Math.ceil((ROUNDS * PUBLISHERS * MAX_PER_PUBLISHER) / TOPICS.length)
const config = (extra: Partial<ServerProcessConfig> = {}): ServerProcessConfig => ({
  sqlite: { path, historyLimit: LIMIT, dedupeWindow: LIMIT },
  server: { rateLimit: false, replayLimit: LIMIT },
  ...extra,
})

/** Everything a topic holds (one replay: histories here stay under the replay limit). */
async function stored(url: string, topic: string): Promise<{ epoch: string; messages: Frame[] }> {
  const c = await client(url)
  const subscribed = await c.subscribe(topic, { since: 0 })
  await c.close()
  return { epoch: String(subscribed.epoch), messages: c.of('message', topic) }
}

interface Acked {
  topic: string
  seq: number
  epoch: string
}

/** Every acked id at its seq with its epoch, every id once, seqs 1..head. */
async function checkStored(url: string, acked: Map<string, Acked>): Promise<Map<string, string>> {
  const epochs = new Map<string, string>()
  for (const topic of TOPICS) {
    const { epoch, messages } = await stored(url, topic)
    epochs.set(topic, epoch)
    expect(messages.map((m) => m.seq)).toEqual(Array.from({ length: messages.length }, (_, i) => i + 1))
    expect(new Set(messages.map((m) => m.id)).size).toBe(messages.length)
    const bySeq = new Map(messages.map((m) => [m.seq, m.id]))
    for (const [id, ack] of acked) {
      if (ack.topic !== topic) continue
      expect(ack.epoch).toBe(epoch)
      expect(bySeq.get(ack.seq)).toBe(id)
    }
  }
  return epochs
}

/** Appends half of a frame to the WAL, as a write cut by a crash would leave it (never acked). */
function tearWal(file: string): number {
  const wal = `${file}-wal`
  const size = statSync(wal).size
  const header = readFileSync(wal).subarray(0, 32)
  const pageSize = header.readUInt32BE(8)
  const frame = 24 + pageSize
  const frames = Math.floor((size - 32) / frame)
  expect(frames).toBeGreaterThan(0)
  const last = readFileSync(wal).subarray(32 + (frames - 1) * frame, 32 + (frames - 1) * frame + 24)
  const torn = Buffer.concat([last, Buffer.alloc(pageSize / 2, 0x5a)])
  const fd = openSync(wal, 'a')
  writeSync(fd, torn)
  closeSync(fd)
  return torn.length
}

describe('SIGKILL during a write burst (SQLite, real processes)', () => {
  it('keeps every acked message exactly once, at its seq, in its epoch, across three kills and a torn WAL tail; resent ids are not stored twice', { timeout: 120_000 }, async () => {
    const acked = new Map<string, Acked>()
    let epochs: Map<string, string> | null = null
    let total = 0
    let server = await startServerProcess(config())
    for (let round = 0; round < ROUNDS; round++) {
      const publishers = await Promise.all(Array.from({ length: PUBLISHERS }, () => client(server.url)))
      const sent: Array<{ id: string; topic: string }> = []
      const ackCount = () => publishers.reduce((n, c) => n + c.of('ack').length, 0)
      // The publishers keep sending until the kill, so it always lands with publishes in flight.
      let killed = false
      const sending = (async () => {
        for (let i = 0; i < MAX_PER_PUBLISHER && !killed; i += BURST) {
          for (const [p, c] of publishers.entries()) {
            for (let k = i; k < i + BURST; k++) {
              const topic = TOPICS[k % 2]
              const id = `r${round}-p${p}-${k}`
              sent.push({ id, topic })
              c.send({ type: 'publish', topic, id, data: { text: 'x'.repeat(200), k } })
            }
          }
          await new Promise((resolve) => setTimeout(resolve, 1))
        }
      })()
      // Somewhere in the middle of the burst (a different place each round).
      await waitFor(() => ackCount() >= 300 + round * 400, { timeout: 30_000, message: 'acks before the kill' })
      await server.kill()
      killed = true
      await sending
      for (const c of publishers) {
        for (const ack of c.of('ack')) acked.set(String(ack.id), { topic: sent.find((s) => s.id === ack.id)!.topic, seq: Number(ack.seq), epoch: String(ack.epoch) })
      }
      expect(ackCount()).toBeLessThan(sent.length) // the kill landed mid-burst
      total += sent.length
      if (round === 1) tearWal(path)

      server = await startServerProcess(config())
      const now = await checkStored(server.url, acked)
      // The same epochs after every kill: nothing was lost, so nothing is renumbered.
      if (epochs) expect(now).toEqual(epochs)
      epochs = now

      // The publishers resend what was not acked (as useChannel does): each is stored once.
      const resender = await client(server.url)
      const unacked = sent.filter((s) => !acked.has(s.id))
      for (const s of unacked) resender.send({ type: 'publish', topic: s.topic, id: s.id, data: { resent: true } })
      await waitFor(() => resender.of('ack').length === unacked.length, { timeout: 30_000, message: 'acks of the resent publishes' })
      for (const ack of resender.of('ack')) acked.set(String(ack.id), { topic: unacked.find((s) => s.id === ack.id)!.topic, seq: Number(ack.seq), epoch: String(ack.epoch) })
      await checkStored(server.url, acked)
      expect(acked.size).toBe(total)
      await Promise.all(clients.splice(0).map((c) => c.close()))
    }
    // After the torn tail, later writes were not glued onto it: a clean restart still has them all.
    await server.close()
    server = await startServerProcess(config())
    expect(await checkStored(server.url, acked)).toEqual(epochs)
    await server.close()
  })
})

describe('a full disk (ulimit -f) in a real process', () => {
  it('fails the publishes that cannot be written with internal, names the file, keeps serving, and loses no acked message', { timeout: 60_000 }, async () => {
    let server = await startServerProcess(config({ fileSizeLimitKiB: 1024 }))
    const c = await client(server.url)
    const acked = new Map<string, Acked>()
    let failedId = ''
    for (let i = 0; i < 2000 && !failedId; i++) {
      const from = c.frames.length
      const id = `m${i}`
      c.send({ type: 'publish', topic: TOPICS[0], id, data: 'y'.repeat(2000) })
      const answer = await c.waitFor((f) => (f.type === 'ack' || f.type === 'error') && (f.id === id || f.ref === id), `an answer to ${id}`, from)
      if (answer.type === 'ack') acked.set(id, { topic: TOPICS[0], seq: Number(answer.seq), epoch: String(answer.epoch) })
      else {
        expect(answer).toMatchObject({ code: 'internal', ref: id })
        failedId = id
      }
    }
    expect(failedId).not.toBe('')
    expect(acked.size).toBeGreaterThan(0)
    // Still serving (a ping round trip), and the operator was told which file and what to do.
    await c.roundTrip()
    const { errors } = await server.stats()
    expect(errors.join('\n')).toContain(`cannot write to ${path} (SQLITE_IOERR`)
    expect(errors.join('\n')).toContain('check that its folder is writable by this process and its disk has free space')
    await server.kill()

    server = await startServerProcess(config())
    await checkStored(server.url, acked)
    const again = await client(server.url)
    // The failed publish, resent: stored once, as the next message.
    expect(await again.publish(TOPICS[0], failedId, 'retry')).toMatchObject({ seq: acked.size + 1 })
    expect(await again.publish(TOPICS[0], failedId, 'retry')).toMatchObject({ seq: acked.size + 1 })
    await server.close()
  })
})

describe('a failed maintenance step (bug 21): a WAL checkpoint that cannot write the database file', () => {
  it('fails no publish: they are acked from the WAL, and every acked one is there once after a restart', { timeout: 90_000 }, async () => {
    // A database file larger than the size limit the server will run under: the checkpoint,
    // which copies new pages to the end of that file, fails; appending to the WAL does not.
    const fill = new SqliteEngine({ path, historyLimit: LIMIT, dedupeWindow: LIMIT })
    const big = JSON.stringify('z'.repeat(1000))
    for (let i = 0; i < 6000; i++) void fill.publish(draft('filler', { data: big }))
    await fill.publish(draft('filler'))
    await fill.close()
    const limitKiB = Math.floor(statSync(path).size / 1024) - 512
    const server = await startServerProcess(config({ fileSizeLimitKiB: limitKiB }))
    const c = await client(server.url)
    const acked = new Map<string, Acked>()
    for (let i = 0; i < 5000; i++) {
      const from = c.frames.length
      const id = `m${i}`
      c.send({ type: 'publish', topic: TOPICS[0], id, data: 'y'.repeat(1000) })
      const answer = await c.waitFor((f) => (f.type === 'ack' || f.type === 'error') && (f.id === id || f.ref === id), `an answer to ${id}`, from)
      if (answer.type !== 'ack') break
      acked.set(id, { topic: TOPICS[0], seq: Number(answer.seq), epoch: String(answer.epoch) })
    }
    // SQLite checkpoints at 1,000 WAL pages and then writes the WAL from its start again; a WAL
    // longer than that means every checkpoint since failed, while publishes went on being acked.
    const pageSize = readFileSync(`${path}-wal`).subarray(0, 32).readUInt32BE(8)
    expect(statSync(`${path}-wal`).size).toBeGreaterThan(1000 * (24 + pageSize))
    expect(acked.size).toBeGreaterThan(0)
    await server.kill()

    const again = await startServerProcess(config())
    await checkStored(again.url, acked)
    await again.close()
  })
})

describe("synchronous: 'normal' and an OS restart", () => {
  async function crashWith(synchronous: 'full' | 'normal'): Promise<{ epoch: string; head: number }> {
    const server = await startServerProcess(config({ sqlite: { path, synchronous } }))
    const c = await client(server.url)
    let last: Frame | null = null
    for (let i = 0; i < 5; i++) last = await c.publish('n', `m${i}`, i)
    await server.kill()
    return { epoch: String(last!.epoch), head: Number(last!.seq) }
  }

  it('renews every epoch when the file was left open in normal mode and the machine restarted (its last acks may be lost)', async () => {
    const before = await crashWith('normal')
    const engine = new SqliteEngine({ path, synchronous: 'normal' }, { bootId: () => 'a later boot' })
    await engine.ready()
    expect(engine.renewedEpochs).toBe(true)
    const history = await engine.history('n', { since: 0, limit: 10 })
    expect(history.epoch).not.toBe(before.epoch)
    // History stays; numbering goes on in the new epoch, so a client holding an old seq resyncs instead of resuming.
    expect(history.head).toBe(before.head)
    expect(await engine.publish(draft('n'))).toMatchObject({ epoch: history.epoch, seq: before.head + 1 })
    await engine.close()
  })

  it('keeps the epochs after a process crash on the same boot, and after an OS restart in full mode', async () => {
    const normal = await crashWith('normal')
    const sameBoot = new SqliteEngine({ path, synchronous: 'normal' })
    await sameBoot.ready()
    expect(sameBoot.renewedEpochs).toBe(false)
    expect(await sameBoot.history('n', { limit: 0 })).toMatchObject({ epoch: normal.epoch, head: normal.head })
    await sameBoot.close()

    await rm(path)
    const full = await crashWith('full')
    const rebooted = new SqliteEngine({ path }, { bootId: () => 'a later boot' })
    await rebooted.ready()
    expect(rebooted.renewedEpochs).toBe(false)
    expect(await rebooted.history('n', { limit: 0 })).toMatchObject({ epoch: full.epoch, head: full.head })
    await rebooted.close()
  })
})
