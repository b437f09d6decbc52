/**
 * A vue-realtime server in a child process: it can be SIGKILLed mid-write, measured alone
 * (heap, RSS, handles), put under a file size limit, or started twice on one file. The server
 * entry is bundled once per test file with esbuild into node_modules/.cache (so `ws` and
 * better-sqlite3 resolve from node_modules); a small script starts it from a JSON config.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { build } from 'esbuild'

const ROOT = join(__dirname, '../..')

export interface ServerProcessConfig {
  /** @default 0 (any free port) */
  port?: number
  /** `createRealtimeServer({ dataDir })`. */
  dataDir?: string
  /** `createRealtimeServer({ engine: sqliteEngine(sqlite) })` (the child closes it after the server). */
  sqlite?: { path: string; synchronous?: 'full' | 'normal'; lockTimeout?: number; historyLimit?: number; dedupeWindow?: number; cacheTopics?: number; cacheBytes?: number }
  /** Further server options (JSON values only). */
  server?: Record<string, unknown>
  /** Node flags of the child, e.g. `['--expose-gc']`. */
  execArgv?: string[]
  /** The child may write files of at most this many KiB (`ulimit -f`): a full disk. */
  fileSizeLimitKiB?: number
}

export interface ServerStats {
  /** After a full GC when the child runs with --expose-gc. */
  heapUsed: number
  rss: number
  /** `process.getActiveResourcesInfo()` of the child, sorted. */
  resources: string[]
  clients: number
  /** Topics the engine holds (on disk for SQLite). */
  topics: number
  /** Messages of the server's `error` events so far. */
  errors: string[]
}

export interface ServerProcess {
  readonly child: ChildProcess
  readonly port: number
  readonly url: string
  /** What the child printed so far (stdout and stderr). */
  output(): string
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  stats(): Promise<ServerStats>
  /**
   * `server.close()` (and the engine's), then the child must exit by itself within 10 s (a
   * handle left open would keep it alive). Resolves with `process.getActiveResourcesInfo()` of
   * the child once closed (sorted; the IPC channel and stdio pipes to this process remain).
   */
  close(): Promise<{ resources: string[] }>
  /** SIGKILL: no close frames, no flush, no checkpoint. Resolves once the child is gone. */
  kill(): Promise<void>
}

let script: Promise<string> | null = null

function bundle(): Promise<string> {
  script ??= (async () => {
    const cache = join(ROOT, 'node_modules/.cache')
    mkdirSync(cache, { recursive: true })
    const dir = mkdtempSync(join(cache, 'vue-realtime-server-process-'))
    const server = join(dir, 'server.mjs')
    // The Redis engine's scripts (src/server/redis/*.lua) are inlined as text.
    await build({ entryPoints: [join(ROOT, 'src/server/index.ts')], bundle: true, format: 'esm', platform: 'node', packages: 'external', loader: { '.lua': 'text' }, outfile: server, logLevel: 'silent' })
    const file = join(dir, 'child.mjs')
    writeFileSync(
      file,
      `import { createRealtimeServer, sqliteEngine } from ${JSON.stringify(server)}
const config = JSON.parse(process.argv[2])
const errors = []
const engine = config.sqlite ? sqliteEngine(config.sqlite) : undefined
const server = createRealtimeServer({ host: '127.0.0.1', port: config.port ?? 0, dataDir: config.dataDir, engine, ...config.server })
server.on('error', (error) => {
  errors.push(error.message)
  console.error(error.message)
})
try {
  await server.ready
} catch (error) {
  process.send({ error: error.message }, () => process.exit(1))
  await new Promise(() => {})
}
process.on('message', async (message) => {
  if (message.ask === 'stats') {
    for (let i = 0; globalThis.gc && i < 4; i++) {
      globalThis.gc()
      await new Promise((resolve) => setImmediate(resolve))
    }
    const { heapUsed, rss } = process.memoryUsage()
    const resources = process.getActiveResourcesInfo().sort()
    const topics = (await server.engine.topics()).length
    process.send({ answer: message.n, heapUsed, rss, resources, clients: server.clients.size, topics, errors })
  }
  if (message.ask === 'close') {
    await server.close()
    await engine?.close()
    // What still holds the event loop once everything is closed (only the pipes to the parent
    // may), after two turns of the loop so that handles whose close was requested are gone.
    for (let i = 0; i < 2; i++) await new Promise((resolve) => setImmediate(resolve))
    const resources = process.getActiveResourcesInfo().sort()
    process.send({ answer: message.n, resources }, () => process.disconnect())
  }
})
process.send({ port: server.port })
`,
    )
    return file
  })()
  return script
}

const running = new Set<ChildProcess>()

/** SIGKILLs every child still running (call from afterEach / afterAll). */
export async function killServerProcesses(): Promise<void> {
  await Promise.all(
    [...running].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve()
          child.once('exit', () => resolve())
          child.kill('SIGKILL')
        }),
    ),
  )
}

/** Starts a server child; rejects with the child's own error when its `ready` fails (within 20 s). */
export async function startServerProcess(config: ServerProcessConfig = {}): Promise<ServerProcess> {
  const file = await bundle()
  const args = [file, JSON.stringify(config)]
  const stdio: ['ignore', 'pipe', 'pipe', 'ipc'] = ['ignore', 'pipe', 'pipe', 'ipc']
  const child =
    config.fileSizeLimitKiB === undefined
      ? fork(args[0], args.slice(1), { cwd: ROOT, execArgv: config.execArgv ?? [], stdio })
      : // bash sets the limit, then becomes node (keeping the IPC channel); node ignores SIGXFSZ, so writes fail with EFBIG.
        spawn('bash', ['-c', `ulimit -f ${config.fileSizeLimitKiB} && exec "$0" "$@"`, process.execPath, ...(config.execArgv ?? []), ...args], { cwd: ROOT, stdio })
  running.add(child)
  let output = ''
  child.stdout?.on('data', (d) => (output += d))
  child.stderr?.on('data', (d) => (output += d))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      running.delete(child)
      resolve({ code, signal })
    }),
  )
  const first = await new Promise<{ port?: number; error?: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server child did not start within 20 s: ${output}`)), 20_000)
    child.once('message', (m) => {
      clearTimeout(timer)
      resolve(m as { port?: number; error?: string })
    })
    void exited.then(({ code, signal }) => {
      clearTimeout(timer)
      reject(new Error(`the server child exited (${code ?? signal}) before it was ready: ${output}`))
    })
  })
  if (first.error !== undefined) {
    await exited
    throw new Error(first.error)
  }
  let asked = 0
  const ask = <T>(what: string, timeout: number): Promise<T> => {
    const n = ++asked
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the server child did not answer "${what}" within ${timeout} ms`)), timeout)
      const onMessage = (m: { answer?: number }) => {
        if (m.answer !== n) return
        clearTimeout(timer)
        child.off('message', onMessage)
        resolve(m as T)
      }
      child.on('message', onMessage)
      child.send({ ask: what, n })
    })
  }
  const port = first.port!
  return {
    child,
    port,
    url: `ws://127.0.0.1:${port}/`,
    output: () => output,
    exited,
    stats: () => ask<ServerStats>('stats', 30_000),
    async close() {
      const { resources } = await ask<{ resources: string[] }>('close', 20_000)
      let timer: NodeJS.Timeout | undefined
      const stuck = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`the server child did not exit within 10 s of close(): something holds its event loop (active after close: ${resources.join(', ')})`)), 10_000)
      })
      try {
        await Promise.race([exited, stuck])
      } finally {
        clearTimeout(timer)
      }
      return { resources }
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      await exited
    },
  }
}
