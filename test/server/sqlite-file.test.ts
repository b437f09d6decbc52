/**
 * The database file's faults (issue 14, bug 24 and the paragraph after bug 27): never two
 * writers, and a corrupt, foreign, newer or unwritable file refused with an error that names
 * the file and the fix.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createRealtimeServer, sqliteEngine } from '../../src/server'
import { killServerProcesses, startServerProcess } from '../support/serverProcess'
import { draft } from './engine-conformance'
import { connect } from './helpers'

let dir = ''
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vue-realtime-file-'))
})
afterEach(async () => {
  await killServerProcesses()
  await rm(dir, { recursive: true, force: true })
})

describe('one writer per database file (bug 24)', () => {
  it('refuses a second server process on the same file while the first runs, and accepts one once it was SIGKILLed', async () => {
    const path = join(dir, 'realtime.db')
    const first = await startServerProcess({ sqlite: { path } })
    const a = await connect(first.url)
    const { epoch } = await a.publish('room', 'a1', 'from the first')
    await a.publish('room', 'a2', 'from the first')

    const refused = startServerProcess({ sqlite: { path, lockTimeout: 200 } })
    await expect(refused).rejects.toThrow(`${path} is locked by another server (another process or engine on this file). A SQLite database has one writer: stop the other server`)
    // The first one still serves, and numbers on.
    expect(await a.publish('room', 'a3', 'still here')).toMatchObject({ seq: 3, epoch })
    await a.close()

    await first.kill() // the OS drops the lock with the process
    const second = await startServerProcess({ sqlite: { path, lockTimeout: 200 } })
    const b = await connect(second.url)
    expect(await b.subscribe('room', { since: 0, epoch })).toMatchObject({ seq: 3, epoch, recovered: true })
    expect(b.of('message').map((m) => m.id)).toEqual(['a1', 'a2', 'a3'])
    await b.close()
    await second.close()
  })

  it('refuses dataDir in a second process too, naming the file', async () => {
    const first = await startServerProcess({ dataDir: dir })
    // dataDir waits up to the default lockTimeout (5 s) for the other process to let go.
    await expect(startServerProcess({ dataDir: dir })).rejects.toThrow(`${join(dir, 'realtime.db')} is locked by another server`)
    await first.close()
  })

  it('waits for a closing server to let go (a restart), up to lockTimeout', async () => {
    const path = join(dir, 'realtime.db')
    const first = await startServerProcess({ sqlite: { path } })
    const closing = first.close()
    // Opening blocks this process until the first one has released the file.
    const engine = sqliteEngine({ path, lockTimeout: 10_000 })
    await engine.ready()
    await closing
    expect((await engine.publish(draft('t'))).seq).toBe(1)
    await engine.close()
  })

  it('refuses a second engine on the file in the same process', async () => {
    const path = join(dir, 'same.db')
    const one = sqliteEngine({ path })
    await one.ready()
    const two = sqliteEngine({ path, lockTimeout: 0 })
    await expect(two.ready()).rejects.toThrow(/same\.db is locked by another server/)
    await expect(two.publish(draft('t'))).rejects.toThrow(/locked by another server/)
    expect((await one.publish(draft('t'))).seq).toBe(1)
    await one.close()
    await two.close()
  })
})

describe('a database file that cannot be used', () => {
  async function refusal(path: string): Promise<string> {
    const server = createRealtimeServer({ port: 0, engine: sqliteEngine({ path, lockTimeout: 0 }) })
    const error = await server.ready.then(
      () => new Error('started'),
      (e: Error) => e,
    )
    await server.close()
    return error.message
  }

  it('names a corrupt file and says to restore it or move it away', async () => {
    const path = join(dir, 'corrupt.db')
    writeFileSync(path, 'this is not a database '.repeat(200))
    expect(await refusal(path)).toBe(
      `[vue-realtime/server] sqliteEngine: ${path} is not a SQLite database or is damaged (file is not a database). Restore it from a backup, or move it and its -wal file away to start empty (every topic then gets a new epoch; clients resync).`,
    )
  })

  it('names a damaged page found while serving', async () => {
    const path = join(dir, 'damaged.db')
    const engine = sqliteEngine({ path, historyLimit: 5000, dedupeWindow: 5000 })
    for (let i = 0; i < 300; i++) await engine.publish(draft('t', { data: JSON.stringify('y'.repeat(500)) }))
    await engine.close()
    // Overwrite pages in the middle of the file (the messages' table and index pages).
    const db = new Database(path)
    const pages = db.pragma('page_count', { simple: true }) as number
    const pageSize = db.pragma('page_size', { simple: true }) as number
    db.close()
    const { openSync, writeSync, closeSync } = await import('node:fs')
    const fd = openSync(path, 'r+')
    for (let p = Math.floor(pages / 3); p < pages; p += 2) writeSync(fd, Buffer.alloc(pageSize, 0xa5), 0, pageSize, p * pageSize)
    closeSync(fd)
    const reopened = sqliteEngine({ path, historyLimit: 5000, dedupeWindow: 5000 })
    const outcome = await reopened
      .ready()
      .then(() => reopened.history('t', { since: 0, limit: 5000 }))
      .then(() => reopened.publish(draft('t')))
      .then(
        () => null,
        (e: Error) => e,
      )
    expect(outcome?.message).toMatch(new RegExp(`${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not a SQLite database or is damaged .*Restore it from a backup`))
    await reopened.close().catch(() => {})
  })

  it('refuses a database of another application and one written by a newer version', async () => {
    const foreign = join(dir, 'app.db')
    const other = new Database(foreign)
    other.exec('CREATE TABLE users (id INTEGER PRIMARY KEY)')
    other.close()
    expect(await refusal(foreign)).toBe(`[vue-realtime/server] sqliteEngine: ${foreign} holds another application's tables; give vue-realtime a database file of its own.`)

    const newer = join(dir, 'newer.db')
    const engine = sqliteEngine({ path: newer })
    await engine.ready()
    await engine.close()
    const bump = new Database(newer)
    bump.pragma('user_version = 99')
    bump.close()
    expect(await refusal(newer)).toBe(`[vue-realtime/server] sqliteEngine: ${newer} was written by a newer vue-realtime (schema 99); upgrade vue-realtime, or point path at another file.`)
  })

  it('names a file whose WAL cannot be written, and a folder that cannot be made', async () => {
    const path = join(dir, 'nowal.db')
    // Where SQLite must create its write-ahead log there is a folder: as good as an unwritable one, even for root.
    mkdirSync(`${path}-wal`)
    expect(await refusal(path)).toMatch(new RegExp(`^\\[vue-realtime/server\\] sqliteEngine: cannot open .*nowal\\.db \\(SQLITE_IOERR.*\\): check that its folder is writable by this process and its disk has free space\\.$`))

    writeFileSync(join(dir, 'a-file'), '')
    expect(await refusal(join(dir, 'a-file', 'realtime.db'))).toMatch(/sqliteEngine: cannot create the folder of .*a-file\/realtime\.db: .*create it, or choose another path\.$/)
  })
})
