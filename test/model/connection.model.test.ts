/**
 * Model-based test of `Connection` + `ConnectionManager` under fake timers: fast-check
 * generates sequences of consumer, browser, server and clock commands (test/model/commands.ts)
 * and after every step checks the invariants (test/model/invariants.ts). A failure prints the
 * seed and the shrunk sequence; replay it with MODEL_SEED=<seed> (and MODEL_PATH=<path>).
 * MODEL_RUNS sets the number of runs (default 2000).
 */
import fc from 'fast-check'
import { afterEach, describe, it, vi } from 'vitest'
import type { ConnectionOptions } from '../../src/core/types'
import { commands, type Model } from './commands'
import { checkInvariants } from './invariants'
import { World } from './world'

const runs = Number(process.env.MODEL_RUNS ?? 2_000)
const seed = process.env.MODEL_SEED === undefined ? undefined : Number(process.env.MODEL_SEED)
const path = process.env.MODEL_PATH

/** Connection options, drawn per run: the invariants hold under every configuration. */
const options = fc.record({
  heartbeat: fc.constantFrom<ConnectionOptions['heartbeat']>(false, { interval: 1_000, timeout: 500 }, { interval: 500, timeout: 1_500 }),
  reconnect: fc.constantFrom<ConnectionOptions['reconnect']>(
    false,
    { minDelay: 100, maxDelay: 2_000, minUptime: 1_000, retries: 6 },
    { minDelay: 0, maxElapsed: 5_000 },
    { minDelay: 50, shouldReconnect: (info) => (info.code === 1012 ? false : undefined) },
  ),
  queue: fc.record({ max: fc.constantFrom(1, 4, 100), overflow: fc.constantFrom('drop-oldest' as const, 'drop-newest' as const), ttl: fc.constantFrom(undefined, 3_000) }),
  connectTimeout: fc.constantFrom(500, 2_000),
  idleTimeout: fc.constantFrom(0, 500),
  closeOnPageHide: fc.boolean(),
})

afterEach(() => {
  vi.useRealTimers()
  vi.restoreAllMocks()
})

describe('Connection + ConnectionManager, model-based (fake timers)', () => {
  it(`keeps every invariant over ${runs} generated sequences`, { timeout: 120_000 }, () => {
    // Development warnings (quiet server, dropped queue) are expected along the way.
    vi.spyOn(console, 'warn').mockImplementation(() => {})
    fc.assert(
      fc.property(options, fc.commands(commands, { maxCommands: 40, size: 'max' }), (defaults, sequence) => {
        vi.useFakeTimers({ now: 1_700_000_000_000 })
        const world = new World(defaults)
        world.advance = (ms) => vi.advanceTimersByTime(ms)
        const check = () => checkInvariants(world, () => vi.getTimerCount())
        try {
          fc.modelRun(() => ({ model: { consumers: 0 } satisfies Model, real: world }), wrapChecks(sequence, check))
          heal(world)
          check()
          // The end of every life: everything released and the manager disposed leaves nothing.
          for (const { connection } of world.consumers.splice(0)) world.manager.release(connection)
          world.manager.dispose()
          vi.advanceTimersByTime(60_000)
          check()
          if (vi.getTimerCount() !== 0) throw new Error(`invariant: ${vi.getTimerCount()} timers left after dispose`)
        } finally {
          vi.useRealTimers()
        }
      }),
      { numRuns: runs, seed, path, endOnFailure: false },
    )
  })
})

/**
 * Progress: once the network, the page and the server are healthy again, every connection a
 * consumer holds that the user did not close (and that did not fail) opens and writes its
 * queue, within a bounded number of steps.
 */
function heal(world: World): void {
  world.browser.emit({ type: 'online' })
  world.browser.emit({ type: 'visible' })
  world.browser.emit({ type: 'pageshow', persisted: true })
  const wanted = () =>
    world.consumers
      .map((c) => c.connection)
      .filter((c) => !world.records.get(c)!.userClosed && c.status !== 'failed' && c.status !== 'idle')
  for (let step = 0; step < 400; step++) {
    if (wanted().every((c) => c.status === 'open' && c.state.queued === 0)) return
    world.sites.forEach((site, index) => {
      const socket = world.current(index)
      if (!socket) return
      socket.bufferedAmount = 0
      if (socket.readyState === 0) socket.accept()
      else if (socket.readyState === 1 && socket.unansweredPings > 0) {
        socket.unansweredPings = 0
        socket.receive('pong')
      }
    })
    vi.advanceTimersByTime(100)
  }
  const stuck = wanted().filter((c) => !(c.status === 'open' && c.state.queued === 0))
  throw new Error(`invariant: after healing, still not open with an empty queue: ${stuck.map((c) => `${c.url} ${JSON.stringify(c.state)}`).join('; ')}`)
}

/** Runs the invariants after every command of the sequence. */
function wrapChecks(sequence: Iterable<fc.Command<Model, World>>, check: () => void): Iterable<fc.Command<Model, World>> {
  const wrapped: fc.Command<Model, World>[] = []
  for (const command of sequence) {
    wrapped.push({
      check: (model) => command.check(model),
      run: (model, world) => {
        command.run(model, world)
        check()
      },
      toString: () => command.toString(),
    })
  }
  return wrapped
}
