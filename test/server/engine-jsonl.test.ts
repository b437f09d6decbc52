import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { jsonlEngine } from '../../src/server/engine-jsonl'
import { engineConformance } from './engine-conformance'

// The dataDir store until the SQLite engine replaces it: one process, so the second node is the same instance.
engineConformance('jsonl (dataDir)', {
  async create(options) {
    const dir = await mkdtemp(join(tmpdir(), 'vue-realtime-engine-'))
    const engine = jsonlEngine(dir, options)
    return {
      engine,
      node: async () => engine,
      async close() {
        await engine.close()
        await rm(dir, { recursive: true, force: true })
      },
    }
  },
})
