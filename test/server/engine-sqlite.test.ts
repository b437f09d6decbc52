import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { RealtimeEngine } from '../../src/server'
import { sqliteEngine } from '../../src/server/engine-sqlite'
import { engineConformance } from './engine-conformance'

/**
 * One file, one node: the second node is the same instance (a second process is refused, see
 * sqlite-file.test.ts). The engine under test sits behind a forwarding object so `lose` can
 * delete the database and open a fresh one, as an operator who deleted the file would.
 */
engineConformance('sqlite', {
  async create(options) {
    const dir = await mkdtemp(join(tmpdir(), 'vue-realtime-sqlite-'))
    let generation = 0
    const open = () => sqliteEngine({ path: join(dir, `realtime-${generation++}.db`), historyLimit: options.historyLimit, dedupeWindow: options.dedupeWindow })
    let inner = open()
    const engine: RealtimeEngine & { swap(): Promise<void> } = {
      name: 'sqlite',
      ready: () => inner.ready(),
      publish: (m) => inner.publish(m),
      broadcast: (m) => inner.broadcast(m),
      history: (t, q) => inner.history(t, q),
      exists: (t) => inner.exists(t),
      subscribe: (t, l) => inner.subscribe(t, l),
      announce: (t, e, m) => inner.announce(t, e, m),
      members: (t) => inner.members(t),
      topics: () => inner.topics(),
      close: () => inner.close(),
      async swap() {
        await inner.close()
        inner = open()
        await inner.ready()
      },
    }
    return {
      engine,
      node: async () => engine,
      async close() {
        await inner.close()
        await rm(dir, { recursive: true, force: true })
      },
    }
  },
  // The database is gone (deleted, or restored from an older backup into a new file).
  async lose({ engine }) {
    await (engine as RealtimeEngine & { swap(): Promise<void> }).swap()
  },
})
