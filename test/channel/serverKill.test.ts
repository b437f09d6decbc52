import { fork, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { build } from 'esbuild'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { Connection } from '../../src/core/connection'
import { mergeOptions } from '../../src/core/manager'
import { ProtocolClient, protocolConnectionOptions } from '../../src/core/protocolClient'
import type { MessageFrame } from '../../src/core/protocol'
import type { ConnectionOptions } from '../../src/core/types'
import { waitFor } from '../support/wait'

/** The server runs in a child process so it can be killed with SIGKILL: no close frames, no flush. */
let script = ''
beforeAll(async () => {
  // Inside the project, so the bundle's `ws` import resolves to node_modules.
  const cache = join(__dirname, '../../node_modules/.cache')
  mkdirSync(cache, { recursive: true })
  const dir = mkdtempSync(join(cache, 'vue-realtime-kill-'))
  const bundle = join(dir, 'server.mjs')
  await build({
    entryPoints: [join(__dirname, '../../src/server/index.ts')],
    bundle: true,
    format: 'esm',
    platform: 'node',
    packages: 'external',
    // The Redis engine's scripts (src/server/redis/*.lua) are inlined as text.
    loader: { '.lua': 'text' },
    outfile: bundle,
    logLevel: 'silent',
  })
  script = join(dir, 'child.mjs')
  writeFileSync(
    script,
    `import { createRealtimeServer } from ${JSON.stringify(bundle)}
const server = createRealtimeServer({ port: Number(process.argv[2]), dataDir: process.argv[3] })
await server.ready
process.send({ port: server.port })
`,
  )
})

const children: ChildProcess[] = []
const cleanups: (() => unknown)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup()
  for (const child of children.splice(0)) child.kill('SIGKILL')
})

async function startChild(port: number, dataDir: string): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(script, [String(port), dataDir], {
    cwd: join(__dirname, '../..'),
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  children.push(child)
  const ready = await new Promise<{ port: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the server child did not start within 10 s')), 10_000)
    child.once('message', (m) => {
      clearTimeout(timer)
      resolve(m as { port: number })
    })
    child.once('exit', (code) => reject(new Error(`the server child exited early (${code})`)))
  })
  return { child, port: ready.port }
}

function client(url: string) {
  const connection = new Connection(
    url,
    mergeOptions(protocolConnectionOptions, {
      WebSocket: WebSocket as unknown as ConnectionOptions['WebSocket'],
      reconnect: { minDelay: 50, maxDelay: 300 },
    }),
  )
  cleanups.push(() => connection.dispose())
  const protocol = ProtocolClient.for(connection)
  const received: MessageFrame[] = []
  let joins = 0
  protocol.subscribe('room:kill', { message: (m) => received.push(m), subscribed: () => joins++ })
  connection.open()
  return { connection, protocol, received, joins: () => joins }
}

describe('a server killed with SIGKILL and restarted', () => {
  it('loses nothing it acked and shows every message exactly once, in order', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'vue-realtime-kill-data-'))
    const first = await startChild(0, dataDir)
    const url = `ws://127.0.0.1:${first.port}/`
    const a = client(url)
    const b = client(url)
    await waitFor(() => a.joins() === 1 && b.joins() === 1)

    const publishes: Promise<unknown>[] = []
    const publishRound = (from: number, to: number) => {
      for (let i = from; i < to; i++) {
        publishes.push(a.protocol.publish('room:kill', { from: 'a', i }, { timeout: 20_000 }))
        publishes.push(b.protocol.publish('room:kill', { from: 'b', i }, { timeout: 20_000 }))
      }
    }
    publishRound(0, 10)
    await Promise.all(publishes)
    publishRound(10, 15) // in flight when the kill lands: some acked, some not
    first.child.kill('SIGKILL')
    await waitFor(() => a.connection.state.status !== 'open' && b.connection.state.status !== 'open')
    publishRound(15, 20) // while the server is down
    await startChild(first.port, dataDir)
    await Promise.all(publishes)
    await waitFor(() => a.received.length >= 40 && b.received.length >= 40, { timeout: 15_000 })

    for (const { received } of [a, b]) {
      expect(received.map((m) => m.seq)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1))
      for (const who of ['a', 'b']) {
        const mine = received.map((m) => m.data as { from: string; i: number }).filter((d) => d.from === who)
        expect(mine.map((d) => d.i)).toEqual(Array.from({ length: 20 }, (_, i) => i))
      }
    }
  })
})
