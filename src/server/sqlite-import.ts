import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type BetterSqlite3 from 'better-sqlite3'

type Database = BetterSqlite3.Database

interface JsonlLine {
  topic: string
  seq: number
  id: string | number
  data: unknown
  from: string
  user?: unknown
  ts: number
}

function isJsonlLine(value: unknown): value is JsonlLine {
  if (typeof value !== 'object' || value === null) return false
  const m = value as Record<string, unknown>
  return (
    typeof m.topic === 'string' &&
    Number.isSafeInteger(m.seq) &&
    (m.seq as number) > 0 &&
    (typeof m.id === 'string' || Number.isSafeInteger(m.id)) &&
    typeof m.from === 'string' &&
    typeof m.ts === 'number' &&
    'data' in m
  )
}

/**
 * Brings the history a `dataDir` held before SQLite (`messages.jsonl`, and `epoch` when present)
 * into the new database, so clients resume where they were: per topic, the unbroken run of
 * seqs ending at its newest (a torn or repeated line of the old store is left out), at most
 * `keep` of them, under the old epoch. Runs once, when the database is created.
 */
export function importJsonl(db: Database, dir: string, keep: number, newEpoch: () => string): void {
  const file = join(dir, 'messages.jsonl')
  if (!existsSync(file)) return
  const saved = existsSync(join(dir, 'epoch')) ? readFileSync(join(dir, 'epoch'), 'utf8').trim() : ''
  const epoch = /^.{1,64}$/.test(saved) ? saved : null
  const topics = new Map<string, Map<number, JsonlLine>>()
  for (const text of readFileSync(file, 'utf8').split('\n')) {
    let line: unknown
    try {
      line = JSON.parse(text)
    } catch {
      continue // a torn write: never acked
    }
    if (!isJsonlLine(line)) continue
    let lines = topics.get(line.topic)
    if (!lines) topics.set(line.topic, (lines = new Map()))
    // The old store served the first line of each seq.
    if (!lines.has(line.seq)) lines.set(line.seq, line)
  }
  const insertTopic = db.prepare('INSERT INTO topics (name, epoch, head) VALUES (?, ?, ?)')
  const insertMessage = db.prepare('INSERT INTO messages (topic, seq, id, data, sender, user, ts) VALUES (?, ?, ?, ?, ?, ?, ?)')
  for (const [name, lines] of topics) {
    const head = Math.max(...lines.keys())
    const id = Number(insertTopic.run(name, epoch ?? newEpoch(), head).lastInsertRowid)
    for (let seq = head; seq > head - keep && lines.has(seq); seq--) {
      const m = lines.get(seq)!
      const key = typeof m.id === 'number' ? `n${m.id}` : `s${m.id}`
      insertMessage.run(id, seq, key, JSON.stringify(m.data ?? null), m.from, m.user === undefined ? null : JSON.stringify(m.user), m.ts)
    }
  }
}
