// Production builds carry none of the devtools (0 B); development builds carry all of it.
// Each build runs in its own process with NODE_ENV set, as a user's build does.
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const run = promisify(execFile)
const SCRIPT = new URL('./fixtureBuild.mjs', import.meta.url).pathname
/** Strings only the devtools code contains (the hook event, the inspector API, timeline titles). */
const MARKERS = ['devtools-plugin:setup', '__VUE_DEVTOOLS_GLOBAL_HOOK__', 'addInspector', 'getInspectorTree', 'addTimelineLayer', 'frame in', 'last position', 'unacked publishes']

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vue-realtime-devtools-build-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

async function bundle(env: 'production' | 'development', devtools: 'ours' | 'none'): Promise<string> {
  const outDir = join(dir, `${env}-${devtools}`)
  await run(process.execPath, [SCRIPT, outDir, devtools], { env: { ...process.env, NODE_ENV: env }, timeout: 120_000 })
  const files = (await readdir(outDir)).filter((f) => f.endsWith('.js')).sort()
  return (await Promise.all(files.map((f) => readFile(join(outDir, f), 'utf8')))).join('\n')
}

describe('devtools in builds', () => {
  it('a production build contains none of it: byte for byte the build without the devtools folder', async () => {
    const [production, withoutDevtools] = await Promise.all([bundle('production', 'ours'), bundle('production', 'none')])
    for (const marker of MARKERS) expect(production, marker).not.toContain(marker)
    expect(production).toBe(withoutDevtools)
  }, 180_000)

  it('a development build contains the timeline and the inspector', async () => {
    const development = await bundle('development', 'ours')
    for (const marker of MARKERS) expect(development, marker).toContain(marker)
  }, 180_000)
})
