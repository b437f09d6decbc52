/**
 * A real `redis-server` for tests (and the cluster demo and bench): Debian's binary on a free
 * loopback port, persistence off, in a temp dir; `stop()` ends it. A missing binary is an error
 * that says how to install it: tests that need Redis fail, they never skip.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'

/** Startup of a local redis-server takes milliseconds; this bounds a stuck one (slow CI included). */
const START_TIMEOUT = 15_000
const STOP_TIMEOUT = 10_000

export interface RedisServer {
  readonly port: number
  readonly url: string
  /** The running process (null while stopped). */
  readonly process: ChildProcess | null
  /** Stops it (SIGTERM, SIGKILL after a bound) and removes its temp dir. */
  stop(options?: { signal?: NodeJS.Signals }): Promise<void>
  /** Stops it and starts a fresh one on the same port: all data is gone, as after a restart without persistence. */
  restart(): Promise<void>
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number }
      probe.close(() => resolve(port))
    })
  })
}

/** The binary's path (a name is looked up on PATH), or null. */
function locate(binary: string): string | null {
  if (binary.includes('/')) return existsSync(binary) ? binary : null
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, binary))) return join(dir, binary)
  }
  return null
}

/** util-linux's setpriv (Debian has it): the server gets SIGKILL when its parent dies, so a killed test run leaves no redis-server behind. */
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((path) => existsSync(path))

function launch(binary: string, port: number, dir: string): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--maxmemory-policy', 'noeviction']
    const child = SETPRIV
      ? spawn(SETPRIV, ['--pdeathsig', 'SIGKILL', '--', binary, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    const timer = setTimeout(() => fail(new Error(`redis-server on port ${port} did not start within ${START_TIMEOUT} ms: ${output.slice(-500)}`)), START_TIMEOUT)
    const fail = (error: Error): void => {
      clearTimeout(timer)
      child.kill('SIGKILL')
      reject(error)
    }
    child.once('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
    const onData = (chunk: Buffer): void => {
      output += chunk.toString()
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer)
        child.stdout?.off('data', onData)
        // Keep draining so a chatty server never blocks on a full pipe.
        child.stdout?.resume()
        resolve(child)
      }
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.once('exit', (code, signal) => fail(new Error(`redis-server on port ${port} exited (${code ?? signal}) before it was ready: ${output.slice(-500)}`)))
  })
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => child.once('exit', () => resolve()))
}

async function kill(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  const done = exited(child)
  child.kill(signal)
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT)
  await done
  clearTimeout(timer)
}

/**
 * Starts a redis-server on a free loopback port (another one if that port was taken meanwhile).
 * `binary` defaults to $REDIS_SERVER, else `redis-server` on the PATH.
 */
export async function startRedis({ binary: name = process.env.REDIS_SERVER ?? 'redis-server' }: { binary?: string } = {}): Promise<RedisServer> {
  const binary = locate(name)
  if (!binary) {
    throw new Error(`redis-server is not installed (${name} not found); install it with \`apt-get install redis-server\` (Debian/Ubuntu), or set REDIS_SERVER to its path.`)
  }
  const dir = mkdtempSync(join(tmpdir(), 'vue-realtime-redis-'))
  let child: ChildProcess | null = null
  let port = 0
  for (let attempt = 1; !child; attempt++) {
    port = await freePort()
    try {
      child = await launch(binary, port, dir)
    } catch (error) {
      if (attempt >= 3) {
        rmSync(dir, { recursive: true, force: true })
        throw error
      }
    }
  }
  let current: ChildProcess | null = child
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get process() {
      return current
    },
    async stop({ signal = 'SIGTERM' } = {}) {
      if (current) await kill(current, signal)
      current = null
      rmSync(dir, { recursive: true, force: true })
    },
    async restart() {
      if (current) await kill(current, 'SIGKILL')
      current = null
      current = await launch(binary, port, dir)
    },
  }
}
