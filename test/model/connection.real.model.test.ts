/**
 * Model-based test of `Connection` + `ConnectionManager` against a real `ws` server behind the
 * loopback fault proxy (test/support/proxy.ts), with real timers: the same consumer and
 * browser commands as the fake-timer suite, and real faults (cut, reset, blackhole, refuse,
 * server close codes, a server that stops answering pings) with real time passing. Invariants
 * are checked after every step, and at the end of every run the link is healed and every
 * message accounted for. Smaller than the fake-timer suite: MODEL_REAL_RUNS (default 25);
 * replay with MODEL_SEED / MODEL_PATH.
 */
import fc from 'fast-check'
import { afterAll, beforeAll, describe, it, vi } from 'vitest'
import WebSocket, { WebSocketServer } from 'ws'
import type { WebSocketConstructor } from '../../src/core/types'
import { createFaultProxy, type FaultProxy } from '../support/proxy'
import { once, waitFor } from '../support/wait'
import { browserCommands, consumerCommands, type Model } from './commands'
import { checkInvariants } from './invariants'
import { World, type Site, type TrackedSocket } from './world'

const runs = Number(process.env.MODEL_REAL_RUNS ?? 25)
const seed = process.env.MODEL_SEED === undefined ? undefined : Number(process.env.MODEL_SEED)
const path = process.env.MODEL_PATH

/** A `ws` client socket that records what it wrote and whether it is still live. */
class RealSocket extends WebSocket implements TrackedSocket {
  live = true
  readonly sent: unknown[] = []
  constructor(url: string, protocols?: string | string[]) {
    super(url, protocols)
    this.once('close', () => {
      this.live = false
    })
  }
  override send(data: unknown, ...rest: unknown[]): void {
    this.sent.push(typeof data === 'string' ? data : String(data))
    ;(super.send as (...args: unknown[]) => void)(data, ...rest)
  }
  override terminate(): void {
    this.live = false
    super.terminate()
  }
}

function realSocketClass(site: Site<RealSocket>): WebSocketConstructor {
  return class extends RealSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols)
      site.sockets.push(this)
    }
  } as unknown as WebSocketConstructor
}

/** The server: answers pings unless silent, counts every message id it receives. */
interface Server {
  wss: WebSocketServer
  port: number
  silent: boolean
  received: Map<string, number>
}

async function startServer(): Promise<Server> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  await once(wss, 'listening')
  const server: Server = { wss, port: (wss.address() as { port: number }).port, silent: false, received: new Map() }
  wss.on('connection', (socket) => {
    socket.on('message', (data) => {
      const text = String(data)
      if (text === 'ping') {
        if (!server.silent) socket.send('pong')
        return
      }
      const { m, f } = JSON.parse(text) as { m?: string; f?: string }
      const id = (m ?? f)!
      server.received.set(id, (server.received.get(id) ?? 0) + 1)
    })
  })
  return server
}

let server: Server
let proxy: FaultProxy
beforeAll(async () => {
  server = await startServer()
  proxy = await createFaultProxy({ target: { port: server.port } })
})
afterAll(async () => {
  await proxy.close()
  for (const client of server.wss.clients) client.terminate()
  await new Promise<void>((resolve) => server.wss.close(() => resolve()))
})

type RealWorld = World<RealSocket>
type AsyncCommand = fc.AsyncCommand<Model, RealWorld>

function fault(name: string, run: (world: RealWorld) => unknown): AsyncCommand {
  return { check: () => true, run: async (_model, world) => void (await run(world)), toString: () => name }
}

const faultCommands: fc.Arbitrary<AsyncCommand>[] = [
  fc.constant(fault('cut()', () => proxy.cut())),
  fc.constant(fault('reset()', () => proxy.reset())),
  fc.constant(fault('blackhole()', () => proxy.blackhole())),
  fc.constant(fault('resume()', () => proxy.resume())),
  fc.boolean().map((on) => fault(`refuse(${on})`, () => proxy.refuse(on))),
  fc.constantFrom(1000, 1001, 1011, 1012, 1008, 4401).map((code) =>
    fault(`serverClose(${code})`, () => {
      for (const client of server.wss.clients) client.close(code, 'model')
    }),
  ),
  fc.boolean().map((silent) =>
    fault(`silent(${silent})`, () => {
      server.silent = silent
    }),
  ),
]

// Real time passes (the generated input here, like advance() under fake timers).
const wait = fc.integer({ min: 5, max: 400 }).map((ms) => fault(`wait(${ms})`, () => new Promise((resolve) => setTimeout(resolve, ms))))

const consumers = consumerCommands as unknown as fc.Arbitrary<AsyncCommand>[]
// Weights by repetition: consumers and waits matter most, so acquire and wait come up often.
const allCommands = [
  ...consumers,
  ...consumers.slice(0, 2),
  ...(browserCommands as unknown as fc.Arbitrary<AsyncCommand>[]),
  ...faultCommands,
  wait,
  wait,
  wait,
]

const nextTurn = () => new Promise((resolve) => setImmediate(resolve))

describe('Connection + ConnectionManager, model-based against a real ws server behind the fault proxy', () => {
  it(`keeps every invariant over ${runs} generated sequences`, { timeout: 180_000 }, async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => {})
    try {
      await fc.assert(
        fc.asyncProperty(fc.commands(allCommands, { maxCommands: 25, size: 'max' }), async (sequence) => {
          const world: RealWorld = new World(
            {
              heartbeat: { interval: 150, timeout: 150 },
              reconnect: { minDelay: 20, maxDelay: 200, minUptime: 300 },
              connectTimeout: 1_000,
              idleTimeout: 100,
              queue: { max: 20 },
            },
            [proxy.url('/one'), proxy.url('/two')],
            realSocketClass,
          )
          const check = () => checkInvariants(world, () => 0, { real: true })
          server.received.clear()
          try {
            await fc.asyncModelRun(() => ({ model: { consumers: 0 }, real: world }), checked(sequence, check))
            await heal(world)
            check()
            accountForEveryMessage(world)
          } finally {
            await teardown(world)
          }
          check()
          for (const site of [...world.sites, { env: world.managerEnv }]) {
            if (site.env.timers !== 0 || site.env.listeners !== 0) throw new Error(`invariant: ${site.env.timers} timers, ${site.env.listeners} listeners left after dispose`)
          }
        }),
        { numRuns: runs, seed, path, endOnFailure: true },
      )
    } finally {
      vi.restoreAllMocks()
    }
  })
})

/** Runs the invariants after every command, once the command's own turn is over. */
function checked(sequence: Iterable<AsyncCommand>, check: () => void): Iterable<AsyncCommand> {
  return [...sequence].map((command) => ({
    check: (model: Readonly<Model>) => command.check(model),
    run: async (model: Model, world: RealWorld) => {
      await command.run(model, world)
      // MODEL_TRACE=1 prints each step and the statuses after it (to read a counterexample).
      if (process.env.MODEL_TRACE) console.log(command.toString(), [...world.manager.connections.values()].map((c) => c.status))
      check()
      await nextTurn()
      check()
    },
    toString: () => command.toString(),
  }))
}

/** Ends every fault, then waits until every held connection that should be open is, with its queue written. */
async function heal(world: RealWorld): Promise<void> {
  proxy.resume()
  await proxy.refuse(false)
  server.silent = false
  world.browser.emit({ type: 'online' })
  world.browser.emit({ type: 'visible' })
  world.browser.emit({ type: 'pageshow', persisted: true })
  const wanted = new Set(world.consumers.map((c) => c.connection))
  for (const connection of wanted) {
    const record = world.records.get(connection)!
    if (record.userClosed || connection.status === 'failed') continue

    if (connection.status === 'idle') connection.open()
    // A close the server sent during the faults (say 4401 held by a blackhole) may still end it
    // in failed, or reach a close listener that closes it on the user's behalf (that close sticks).
    await waitFor(() => record.userClosed || (connection.status === 'open' && connection.state.queued === 0) || connection.status === 'failed', {
      timeout: 10_000,
      message: () => `${connection.url} open with its queue written (${JSON.stringify(connection.state)})`,
    })
  }
}

/** The server got each message at most once, and only messages that were written. */
function accountForEveryMessage(world: RealWorld): void {
  const written = new Set<string>()
  for (const site of world.sites) {
    for (const socket of site.sockets) {
      for (const frame of socket.sent) {
        if (typeof frame === 'string' && frame[0] === '{') {
          const { m, f } = JSON.parse(frame) as { m?: string; f?: string }
          written.add((m ?? f)!)
        }
      }
    }
  }
  for (const [id, count] of server.received) {
    if (count > 1) throw new Error(`invariant: the server received message ${id} ${count} times`)
    if (!written.has(id)) throw new Error(`invariant: the server received message ${id} that was never written`)
  }
}

/** Releases everything, disposes the manager, and waits until the server holds no socket. */
async function teardown(world: RealWorld): Promise<void> {
  proxy.resume()
  await proxy.refuse(false)
  for (const { connection } of world.consumers.splice(0)) world.manager.release(connection)
  world.manager.dispose()
  await waitFor(() => server.wss.clients.size === 0 && world.sites.every((site) => site.sockets.every((s) => !s.live)), {
    timeout: 10_000,
    message: 'every socket closed after dispose',
  })
}
