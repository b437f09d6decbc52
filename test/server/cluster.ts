/**
 * Server nodes in child processes, on one Redis: real processes that can be SIGKILLed. The node
 * entry (cluster-node.ts) is bundled once per test file with esbuild.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync } from 'node:fs'
import { join } from 'node:path'
import { build } from 'esbuild'

let bundled: Promise<string> | null = null

function bundle(): Promise<string> {
  bundled ??= (async () => {
    // Inside the project, so the bundle's `ws` and `redis` imports resolve to node_modules.
    const cache = join(__dirname, '../../node_modules/.cache')
    mkdirSync(cache, { recursive: true })
    const outfile = join(mkdtempSync(join(cache, 'vue-realtime-cluster-')), 'node.mjs')
    await build({
      entryPoints: [join(__dirname, 'cluster-node.ts')],
      bundle: true,
      format: 'esm',
      platform: 'node',
      packages: 'external',
      loader: { '.lua': 'text' },
      outfile,
      logLevel: 'silent',
    })
    return outfile
  })()
  return bundled
}

export interface NodeOptions {
  redisUrl: string
  prefix: string
  /** Listen here (a restarted node keeps its port). @default 0 */
  port?: number
  historyLimit?: number
  nodeTtlMs?: number
}

export interface ClusterNode {
  readonly port: number
  readonly url: string
  readonly child: ChildProcess
  /** Errors the server reported (its `error` event). */
  readonly errors: string[]
  /** Resolves when the process has exited. */
  readonly exited: Promise<void>
  kill(signal?: NodeJS.Signals): Promise<void>
  /** Graceful shutdown (server.close, engine.close). */
  close(): Promise<void>
}

const START_TIMEOUT = 20_000

export async function startNode(options: NodeOptions): Promise<ClusterNode> {
  const entry = await bundle()
  const child = fork(entry, [], {
    env: {
      ...process.env,
      REDIS_URL: options.redisUrl,
      PREFIX: options.prefix,
      PORT: String(options.port ?? 0),
      ...(options.historyLimit ? { HISTORY_LIMIT: String(options.historyLimit) } : {}),
      ...(options.nodeTtlMs ? { NODE_TTL_MS: String(options.nodeTtlMs) } : {}),
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const errors: string[] = []
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`a cluster node did not start within ${START_TIMEOUT} ms`)), START_TIMEOUT)
    child.on('message', (message: { type: string; port?: number; message?: string }) => {
      if (message.type === 'ready') {
        clearTimeout(timer)
        resolve(message.port!)
      } else if (message.type === 'error') {
        errors.push(message.message!)
      }
    })
    void exited.then(() => {
      clearTimeout(timer)
      reject(new Error(`a cluster node exited before it was ready (${child.exitCode ?? child.signalCode})`))
    })
  })
  return {
    port,
    url: `ws://127.0.0.1:${port}/`,
    child,
    errors,
    exited,
    async kill(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      await exited
    },
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.send('close')
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(timer)
    },
  }
}
