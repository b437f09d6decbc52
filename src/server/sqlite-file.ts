import { readFileSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { uptime } from 'node:os'
import { dirname, resolve } from 'node:path'
import type BetterSqlite3 from 'better-sqlite3'
import { newEpoch } from './engine-hub'
import { importJsonl } from './sqlite-import'

export type Database = BetterSqlite3.Database

const PREFIX = '[vue-realtime/server] sqliteEngine:'

/** The layout this code writes (`PRAGMA user_version`); a file from a newer one is refused. */
const SCHEMA_VERSION = 1

const SCHEMA = `
CREATE TABLE topics (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  epoch TEXT NOT NULL,
  head INTEGER NOT NULL
);
CREATE TABLE messages (
  topic INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  id TEXT NOT NULL,
  data TEXT NOT NULL,
  sender TEXT NOT NULL,
  user TEXT,
  ts INTEGER NOT NULL,
  PRIMARY KEY (topic, seq)
);
CREATE INDEX messages_by_id ON messages (topic, id, seq);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
PRAGMA user_version = ${SCHEMA_VERSION};
`

/**
 * Names this boot of the machine: it changes when the OS restarts (power loss, kernel crash),
 * not when only the process does. Linux has it exactly; elsewhere the boot time stands in.
 */
export function bootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()
  } catch {
    return `boot-${Math.round((Date.now() / 1000 - uptime()) / 60)}`
  }
}

interface SqliteError extends Error {
  code?: string
}

/**
 * An error a user can act on: what failed, on which file, and the fix, in one sentence. The
 * SQLite error stays as `cause` and its code as `code`.
 */
export function fileError(error: unknown, file: string, doing: string): Error {
  const cause: SqliteError = error instanceof Error ? error : new Error(String(error))
  const code = cause.code ?? ''
  let text: string
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
    text = `${file} is locked by another server (another process or engine on this file). A SQLite database has one writer: stop the other server or give this one its own path (redisEngine runs several servers on shared state).`
  } else if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) {
    text = `${file} is not a SQLite database or is damaged (${cause.message}). Restore it from a backup, or move it and its -wal file away to start empty (every topic then gets a new epoch; clients resync).`
  } else if (code === 'SQLITE_FULL') {
    text = `cannot ${doing} ${file}: the disk is full. Free space; publishes fail until then.`
  } else if (code.startsWith('SQLITE_IOERR') || code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_READONLY') || code === 'SQLITE_PERM') {
    text = `cannot ${doing} ${file} (${code}: ${cause.message}): check that its folder is writable by this process and its disk has free space.`
  } else {
    text = `cannot ${doing} ${file}: ${cause.message}`
  }
  const wrapped: SqliteError = new Error(`${PREFIX} ${text}`, { cause })
  if (code) wrapped.code = code
  return wrapped
}

async function loadDriver(): Promise<typeof BetterSqlite3> {
  try {
    return (await import('better-sqlite3')).default
  } catch (error) {
    throw new Error(`${PREFIX} the better-sqlite3 package is not installed or did not build; run \`npm install better-sqlite3@12\` (it compiles a native addon: allow its install script).`, { cause: error })
  }
}

export interface FileSettings {
  synchronous: 'full' | 'normal'
  cacheBytes: number
  lockTimeout: number
  /** Messages kept per topic (history and dedupe); rows beyond it are trimmed. */
  keep: number
  /** This boot of the machine (`bootId()`; injected by tests). */
  boot: string
  /** A `dataDir` whose JSON-lines history (before SQLite) is imported when the database is created. */
  importFrom?: string
}

export interface OpenedFile {
  db: Database
  /** Whether the epochs of every topic were renewed because commits may have been lost. */
  renewedEpochs: boolean
}

/**
 * Opens (creating it with its folder if missing) and takes the database file for this process
 * alone: WAL with `locking_mode = EXCLUSIVE`, so the OS lock is held until the process ends
 * (SIGKILL included) and a second server on the file is refused here, at start, with an error
 * naming the file. Checks or creates the schema, trims rows beyond `keep` when the limits were
 * lowered, and renews every topic's epoch when the file was left open in `'normal'` mode across
 * an OS restart (its last acked commits may be gone: numbers must not be handed out twice).
 */
export async function openFile(path: string, settings: FileSettings): Promise<OpenedFile> {
  const file = resolve(path)
  const Driver = await loadDriver()
  try {
    await mkdir(dirname(file), { recursive: true })
  } catch (error) {
    throw new Error(`${PREFIX} cannot create the folder of ${file}: ${(error as Error).message}; create it, or choose another path.`, { cause: error })
  }
  let db: Database | null = null
  try {
    db = new Driver(file, { timeout: settings.lockTimeout })
    // Before WAL is entered, so the WAL index lives in this process's memory and the file lock is exclusive.
    db.pragma('locking_mode = EXCLUSIVE')
    const mode = db.pragma('journal_mode = WAL', { simple: true })
    if (mode !== 'wal') throw new Error(`journal_mode is "${String(mode)}", not "wal"`)
    db.pragma(`cache_size = ${-Math.max(1, Math.floor(settings.cacheBytes / 1024))}`)
    // The first transaction is fsynced in either mode: it records that the file is open on this boot.
    db.pragma('synchronous = FULL')
    const renewedEpochs = db.transaction(() => prepare(db!, file, settings)).exclusive()
    if (settings.synchronous === 'normal') db.pragma('synchronous = NORMAL')
    return { db, renewedEpochs }
  } catch (error) {
    try {
      db?.close()
    } catch {
      // the open error is the one to report
    }
    throw error instanceof Error && error.message.startsWith(PREFIX) ? error : fileError(error, file, 'open')
  }
}

/** Runs in the first (exclusive) transaction; returns whether epochs were renewed. */
function prepare(db: Database, file: string, settings: FileSettings): boolean {
  const version = db.pragma('user_version', { simple: true }) as number
  if (version > SCHEMA_VERSION) {
    throw new Error(`${PREFIX} ${file} was written by a newer vue-realtime (schema ${version}); upgrade vue-realtime, or point path at another file.`)
  }
  if (version === 0) {
    const tables = db.prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table'").pluck().get() as number
    if (tables > 0) throw new Error(`${PREFIX} ${file} holds another application's tables; give vue-realtime a database file of its own.`)
    db.exec(SCHEMA)
    if (settings.importFrom) importJsonl(db, settings.importFrom, settings.keep, newEpoch)
  }
  const meta = (key: string) => db.prepare('SELECT value FROM meta WHERE key = ?').pluck().get(key) as string | undefined
  const setMeta = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value')

  // Left open (no clean close) in 'normal' mode, and the machine restarted since: the WAL was
  // not fsynced at every commit, so acked messages may be gone while clients hold their seqs.
  let renew = false
  const openBoot = meta('open_boot')
  if (openBoot !== undefined && meta('open_synchronous') === 'normal' && openBoot !== settings.boot) {
    const update = db.prepare('UPDATE topics SET epoch = ? WHERE id = ?')
    for (const id of db.prepare('SELECT id FROM topics').pluck().all() as number[]) update.run(newEpoch(), id)
    renew = true
  }
  setMeta.run('open_boot', settings.boot)
  setMeta.run('open_synchronous', settings.synchronous)

  // Lowered limits: trim every topic now rather than only the ones published to again.
  const keptBefore = Number(meta('keep') ?? settings.keep)
  if (keptBefore > settings.keep) {
    db.prepare('DELETE FROM messages WHERE seq <= (SELECT head FROM topics WHERE topics.id = messages.topic) - ?').run(settings.keep)
  }
  setMeta.run('keep', String(settings.keep))
  return renew
}

/** Marks a clean shutdown (nothing can have been lost), then closes: the WAL is checkpointed into the file and removed. */
export function closeFile(db: Database): void {
  try {
    db.prepare("DELETE FROM meta WHERE key IN ('open_boot', 'open_synchronous')").run()
  } finally {
    db.close()
  }
}
