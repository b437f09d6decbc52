/**
 * `npm run demo:cluster` (demo/start-cluster.mjs runs `main`): a local redis-server (free port, no
 * persistence, stopped on exit), two chat nodes on it (child processes), and the site served
 * once per node by Vite: http://127.0.0.1:5173 talks to node A, :5174 to node B. Chat across
 * them; kill a node and watch its users recover on restart. The e2e test uses `startChatNode`.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { startRedis, type RedisServer } from '../test/support/redis'

const root = fileURLToPath(new URL('..', import.meta.url))
const NODE_START_TIMEOUT = 20_000

export interface ChatNode {
  readonly port: number
  readonly child: ChildProcess
  readonly exited: Promise<void>
  kill(signal?: NodeJS.Signals): Promise<void>
  close(): Promise<void>
}

let bundled: Promise<string> | null = null
/** cluster-node.ts bundled for Node (which cannot run TypeScript), once per process. */
function nodeEntry(): Promise<string> {
  bundled ??= (async () => {
    const dir = `${root}node_modules/.cache/vue-realtime-demo`
    mkdirSync(dir, { recursive: true })
    const outfile = `${dir}/cluster-node.mjs`
    await build({
      entryPoints: [`${root}demo/cluster-node.ts`],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      // The Redis engine's scripts (src/server/redis/*.lua) are inlined as text.
      loader: { '.lua': 'text' },
      logLevel: 'warning',
    })
    return outfile
  })()
  return bundled
}

/** Starts a chat node on Redis in a child process; resolves once it listens. */
export async function startChatNode(options: { redisUrl: string; port?: number; nodeTtlMs?: number; prefix?: string }): Promise<ChatNode> {
  const child = fork(await nodeEntry(), [], {
    env: {
      ...process.env,
      REDIS_URL: options.redisUrl,
      PORT: String(options.port ?? 0),
      ...(options.prefix ? { REDIS_PREFIX: options.prefix } : {}),
      ...(options.nodeTtlMs ? { NODE_TTL_MS: String(options.nodeTtlMs) } : {}),
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`a chat node did not start within ${NODE_START_TIMEOUT} ms`)), NODE_START_TIMEOUT)
    child.on('message', (message: { type?: string; port?: number }) => {
      if (message.type !== 'ready') return
      clearTimeout(timer)
      resolve(message.port!)
    })
    void exited.then(() => {
      clearTimeout(timer)
      reject(new Error(`a chat node exited before it listened (${child.exitCode ?? child.signalCode}); is Redis at ${options.redisUrl} up?`))
    })
  })
  const running = () => child.exitCode === null && child.signalCode === null
  return {
    port,
    child,
    exited,
    async kill(signal = 'SIGKILL') {
      if (running()) child.kill(signal)
      await exited
    },
    async close() {
      if (!running()) return
      child.send('close')
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
      await exited
      clearTimeout(timer)
    },
  }
}

/** The demo: Redis (or REDIS_URL), nodes A and B, the site once per node. Resolves with a stop function. */
export async function main(): Promise<() => Promise<void>> {
  const { createServer } = await import('vite')
  const host = '127.0.0.1'
  let redis: RedisServer | null = null
  const redisUrl = process.env.REDIS_URL ?? (redis = await startRedis()).url
  const nodes: ChatNode[] = []
  const sites: Array<Awaited<ReturnType<typeof createServer>>> = []
  const stop = async (): Promise<void> => {
    await Promise.allSettled(sites.map((site) => site.close()))
    await Promise.allSettled(nodes.map((node) => node.close()))
    await redis?.stop()
  }
  try {
    for (const [name, sitePort] of [
      ['A', 5173],
      ['B', 5174],
    ] as const) {
      const node = await startChatNode({ redisUrl })
      nodes.push(node)
      const site = await createServer({
        configFile: `${root}demo/vite.config.ts`,
        root: `${root}demo`,
        server: { host, port: sitePort, strictPort: false, proxy: { '/ws': { target: `ws://${host}:${node.port}`, ws: true } } },
        logLevel: 'warn',
      })
      await site.listen()
      sites.push(site)
      console.log(`  ➜  Node ${name}: ${site.resolvedUrls?.local[0] ?? `http://${host}:${sitePort}/`} (chat node ws://${host}:${node.port}/ws, pid ${node.child.pid})`)
    }
  } catch (error) {
    await stop()
    throw error
  }
  console.log(`  ➜  Redis: ${redisUrl}${redis ? ' (started for the demo, no persistence; stopped on exit)' : ''}`)
  console.log('  ➜  Open both, join as two people, chat; `kill -9` a node pid and watch its user recover. Ctrl-C stops all.\n')
  return stop
}
