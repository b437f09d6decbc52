/**
 * Model-based test of channels (issue 14): fast-check generates sequences of publishes (new
 * id, the same id again, ephemeral), topic and URL switches (also racing a live message),
 * server drops (cut, reset, blackhole both ways or of replies only), server stops (1012) and
 * restarts, offline/online, clock jumps and user closes, and runs them against real servers
 * behind the loopback fault proxy, with two `useChannel` views on one manager. The store is
 * drawn per run: one server on the memory engine (a restart numbers anew), one on SQLite (a
 * restart keeps everything), or two nodes on one real redis-server, where the proxy is the load
 * balancer (it can send new connections to the other node) and Redis can kill its pub/sub
 * connections or restart with its data gone. After every step:
 * - each view's messages are of its topic, stored by a server under that (epoch, seq) and id,
 *   in sequence order, each once, with no hole (nor a jump to another numbering) unless the
 *   view was told of a gap;
 * - no publish timed out on a link that stayed open and healthy (nor across a Redis fault);
 * - a request (never resent) ran at most once, and one answered ran once and got its own echo;
 * - a connection the user closed stays closed.
 * At the end, with every fault healed (every node running and reaching Redis): every view is
 * joined and live, a publish and a request from each view are answered, every publish and
 * request promise settled (once), every acked publish is stored under the (epoch, seq) of its
 * ack, failed publishes are the only ones listed as pending, and after dispose nothing is
 * pending and no timer is left. No server reported an error, except that it could not reach a
 * Redis that went away.
 *
 * FC_RUNS sets the number of runs (default 40, about 30 s); FC_KIND=memory|sqlite|redis runs
 * one store only, FC_TRANSPORT=ws|"crossws 0.3"|"crossws 0.4" one transport only (each run draws
 * the nodes' transport: `createRealtimeServer`, or the crossws hooks on crossws's Node adapter). Reproduce a failure with the seed it prints: FC_SEED=<seed> FC_PATH=<path>
 * FC_REPLAY=<replayPath> (and the same FC_KIND and FC_TRANSPORT). FC_DEBUG=1 prints every run's commands, FC_TRACE=1
 * each command as it starts (to see where a run hangs: a command, the heal or the dispose that
 * does not finish within its bound fails the run). The
 * Redis runs start their own redis-server (Debian's `redis-server`).
 */
import fc from 'fast-check'
import { createClient } from 'redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { waitFor } from '../support/wait'
import { startRedis, type RedisServer } from '../support/redis'
import { ChannelWorld, PUBLISH_TIMEOUT, TOPICS, URLS, type ModelServer, type StoreKind, type Transport, type View } from './channelWorld'

interface Model {
  kind: StoreKind
  /** Which nodes run (one, or two on Redis). */
  up: boolean[]
  routed: number
  online: boolean
  blackholed: boolean
  /** The nodes cannot reach Redis. */
  redisCut: boolean
}

type Cmd = fc.AsyncCommand<Model, ChannelWorld>

/** Lets sockets and timers run a little between two commands (one turn of the event loop). */
const tick = () => new Promise<void>((resolve) => setImmediate(resolve))

/** Waits, bounded, until every view that can be joined is; never fails (faults may prevent it). */
async function quiet(world: ChannelWorld, timeout = 1_500): Promise<void> {
  await waitFor(
    () =>
      world.views.every((v) => {
        const status = v.channel.status.value
        return !v.topic.value || !v.url.value || v.channel.subscribed.value || status === 'closed' || status === 'offline'
      }),
    { timeout },
  ).catch(() => {})
}

// ── invariants ─────────────────────────────────────────────────────────────────

function checkView(world: ChannelWorld, view: View): void {
  const messages = view.channel.messages.value
  let before: string[] = []
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]
    const where = `view ${view.index} message #${i} (${m.topic} seq ${m.seq}, id ${String(m.id)})`
    expect(m.topic, `${where}: of another topic than ${view.topic.value}`).toBe(view.topic.value)
    const by = world.storedBy(m)
    // A node's `publish` event comes when its store answered: one whose answer was lost (its link
    // to Redis cut mid-call) refuses the publish, and the client's retry is a duplicate, which
    // fires none. Such a message is checked at the end, once its publisher's ack is known.
    const unheard = by.length === 0 && world.redisFaults > 0
    if (unheard) world.unverified.set(`${m.topic}|${m.seq}|${String(m.id)}`, { message: m, where })
    else expect(by.length, `${where}: not what the server stored under that seq`).toBeGreaterThan(0)
    const previous = messages[i - 1]
    // Consecutive means the next seq of the same numbering (a memory server that restarted numbers anew).
    const next = previous !== undefined && m.seq === previous.seq! + 1 && (unheard || before.length === 0 || by.some((g) => before.includes(g)))
    before = by
    if (previous === undefined || next) continue
    expect(
      view.gapAfter.has(previous),
      `${where}: follows seq ${previous.seq} without a gap being reported (seqs ${messages.map((x) => x.seq).join(',')})`,
    ).toBe(true)
  }
}

function checkInvariants(world: ChannelWorld): void {
  for (const view of world.views) checkView(world, view)
  for (const connection of world.closedByUser) {
    if (!world.manager.connections.has(connection.key)) continue
    expect(['closing', 'closed'], `${connection.key} was closed by the user and must stay closed`).toContain(connection.status)
  }
  for (const record of world.publishes) {
    expect(record.settled).toBeLessThanOrEqual(1)
    expect(record.lostOnOpenLink, 'a publish timed out on a link that stayed open').toBeUndefined()
  }
  for (const record of world.requests) {
    const runs = world.handled.get(record.token) ?? 0
    expect(runs, `request ${record.token} ran ${runs} times`).toBeLessThanOrEqual(1)
    expect(record.settled).toBeLessThanOrEqual(1)
    expect(record.lostOnOpenLink, 'a request timed out on a link that stayed open').toBeUndefined()
    if (record.outcome && 'data' in record.outcome) {
      expect(record.outcome.data, `request ${record.token} answered with its own echo`).toEqual({ token: record.token })
      expect(runs, `request ${record.token} answered, so it ran once`).toBe(1)
    }
  }
}

/** Longer than any command's own waits: a command still running after it hangs (a defect in itself). */
const COMMAND_BOUND = 30_000

/** `promise`, or an error naming `what` if it has not settled within `ms` (a hang fails the run with its seed). */
async function bounded<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms: it hangs`)), ms)
  })
  try {
    return await Promise.race([promise, hung])
  } finally {
    clearTimeout(timer)
  }
}

/** Runs a command's action, then the invariants. */
function command(name: string, check: (m: Readonly<Model>) => boolean, run: (m: Model, w: ChannelWorld) => Promise<void> | void): Cmd {
  return {
    check,
    async run(m, w) {
      if (process.env.FC_TRACE) console.log(`[${new Date().toISOString()}] ${w.kind}: ${name}`)
      await bounded(Promise.resolve(run(m, w)), COMMAND_BOUND, name)
      await tick()
      checkInvariants(w)
    },
    toString: () => name,
  }
}

const always = () => true

// ── commands ───────────────────────────────────────────────────────────────────

/** A node publishes; on Redis it may refuse while its Redis is away (it says so and loses nothing). */
async function serverPublish(w: ChannelWorld, server: ModelServer | null, topic: string): Promise<void> {
  try {
    await server?.publish(topic, { n: ++w.counter, by: 'server' })
  } catch (error) {
    if (w.kind !== 'redis' || !/redisEngine: Redis at .* is unreachable/.test((error as Error).message)) throw error
  }
}

const view = fc.constantFrom(0, 1)
/** A server node (taken modulo the nodes the run has: with one server, always it). */
const node = fc.constantFrom(0, 1)

const publish = fc.tuple(view, fc.constantFrom('new', 'again', 'ephemeral')).map(([v, kind]) =>
  command(`publish(view ${v}, ${kind})`, always, (_m, w) => {
    const target = w.views[v]
    const earlier = target.ids.filter((p) => p.topic === target.topic.value)
    if (kind === 'again' && earlier.length > 0) {
      const again = earlier[w.counter % earlier.length]
      w.publish(target, again.data, { id: again.id })
    } else {
      w.publish(target, { n: ++w.counter, by: `v${v}` }, { ephemeral: kind === 'ephemeral' })
    }
  }),
)

const commands = [
  // Listed three times: publishes are what every other command is there to disturb.
  publish,
  publish,
  publish,
  // Requests are never resent: each runs at most once, and settles once.
  view.map((v) => command(`request(view ${v})`, always, (_m, w) => void w.request(w.views[v]))),
  fc.tuple(fc.constantFrom(...TOPICS), node).map(([topic, n]) =>
    command(`node ${n} publishes to ${topic}`, (m) => m.up[n % m.up.length], async (_m, w) => {
      await serverPublish(w, w.nodes[n % w.nodes.length], topic)
    }),
  ),
  fc.tuple(view, fc.constantFrom<string | undefined>(...TOPICS, ...TOPICS, undefined)).map(([v, topic]) =>
    command(`view ${v} topic → ${topic}`, always, (_m, w) => {
      w.views[v].topic.value = topic
    }),
  ),
  // Races: a live message in flight while a view leaves and rejoins, or two views swap topics.
  fc.tuple(fc.constantFrom(...TOPICS), view, fc.constantFrom('A→B→A', 'swap')).map(([topic, v, how]) =>
    command(`server publishes to ${topic}, at once view ${v} ${how}`, (m) => m.up[m.routed], async (_m, w) => {
      await serverPublish(w, w.server, topic)
      const [one, other] = [w.views[v], w.views[1 - v]]
      if (how === 'swap') {
        ;[one.topic.value, other.topic.value] = [other.topic.value, one.topic.value]
        return
      }
      const was = one.topic.value
      one.topic.value = TOPICS.find((t) => t !== was)
      await Promise.resolve() // the watcher leaves `was` and joins the other topic
      await Promise.resolve()
      one.topic.value = was
    }),
  ),
  fc.tuple(view, fc.constantFrom<string | undefined>(...URLS, ...URLS, undefined)).map(([v, path]) =>
    command(`view ${v} url → ${path}`, always, (_m, w) => {
      const url = path === undefined ? undefined : w.url(path)
      // Acquiring a connection reopens it: that is the user opening it again.
      const next = url === undefined ? undefined : w.manager.get(url, 'vue-realtime.v1')
      if (next) w.closedByUser.delete(next)
      w.views[v].url.value = url
    }),
  ),
  fc.constantFrom('cut', 'reset').map((how) =>
    command(`proxy ${how}`, always, (_m, w) => {
      if (how === 'cut') w.proxy.cut()
      else w.proxy.reset()
    }),
  ),
  fc.constant(
    command('proxy blackhole', (m) => !m.blackholed, (m, w) => {
      w.proxy.blackhole()
      w.blackholes++
      m.blackholed = w.blackholed = true
    }),
  ),
  fc.constant(
    command('proxy resume', (m) => m.blackholed, (m, w) => {
      w.proxy.resume()
      m.blackholed = w.blackholed = false
    }),
  ),
  node.map((n) =>
    command(`node ${n} stops (1012)`, (m) => m.up[n % m.up.length], async (m, w) => {
      await w.stopServer(n % w.nodes.length)
      m.up[n % m.up.length] = false
    }),
  ),
  node.map((n) =>
    // (A node does not start while it cannot reach Redis: its `ready` rejects, naming Redis.)
    command(`node ${n} starts on the same port`, (m) => !m.up[n % m.up.length] && !m.redisCut, async (m, w) => {
      await w.startServer(n % w.nodes.length)
      m.up[n % m.up.length] = true
    }),
  ),
  // Replies held back, requests let through: a publish arrives and is stored, its ack never comes.
  fc.constant(
    command('proxy blackholes replies', (m) => !m.blackholed, (m, w) => {
      w.proxy.blackhole('down')
      w.blackholes++
      m.blackholed = w.blackholed = true
    }),
  ),
  // Two nodes on Redis: the load balancer sends new connections to the other node.
  fc.constant(
    command('balancer routes to the other node', (m) => m.kind === 'redis', (m, w) => {
      m.routed = 1 - m.routed
      w.route(m.routed)
    }),
  ),
  fc.constant(
    command('redis kills every pub/sub connection', (m) => m.kind === 'redis', async (_m, w) => {
      w.redisFaults++
      await redisCommand(['CLIENT', 'KILL', 'TYPE', 'pubsub'])
    }),
  ),
  // A partition between the nodes and Redis (Redis keeps its data): every command fails until it heals.
  fc.constant(
    command('the nodes lose their link to Redis', (m) => m.kind === 'redis' && !m.redisCut, async (m, w) => {
      w.redisFaults++
      m.redisCut = true
      await w.redisLink!.refuse(true)
      w.redisLink!.reset()
    }),
  ),
  fc.constant(
    command('the link to Redis heals', (m) => m.redisCut, async (m, w) => {
      m.redisCut = false
      await w.redisLink!.refuse(false)
    }),
  ),
  fc.constant(
    command('redis restarts (its data gone)', (m) => m.kind === 'redis', async (_m, w) => {
      w.redisFaults++
      await redis.restart()
    }),
  ),
  fc.constant(
    command('offline', (m) => m.online, (m, w) => {
      w.env.emit({ type: 'offline' })
      m.online = false
    }),
  ),
  fc.constant(
    command('online', (m) => !m.online, (m, w) => {
      w.env.emit({ type: 'online' })
      m.online = true
    }),
  ),
  // A laptop waking up (the clock jumps) and the user sending at once.
  fc.tuple(fc.constantFrom(40_000, -40_000), view).map(([ms, v]) =>
    command(`clock jumps ${ms} ms, view ${v} publishes`, always, (_m, w) => {
      w.clockOffset += ms
      w.publish(w.views[v], { n: ++w.counter, by: `v${v}` }, {})
    }),
  ),
  view.map((v) =>
    command(`user closes view ${v}'s connection`, always, (_m, w) => {
      const connection = w.connectionOf(w.views[v])
      if (!connection) return
      connection.close()
      w.closedByUser.add(connection)
    }),
  ),
  view.map((v) =>
    command(`view ${v} reconnect()`, always, (_m, w) => {
      const connection = w.connectionOf(w.views[v])
      if (connection) w.closedByUser.delete(connection)
      w.views[v].channel.reconnect()
    }),
  ),
  fc.constant(command('wait until quiet', always, (_m, w) => quiet(w))),
]

// ── the end of a run ───────────────────────────────────────────────────────────

/** Heals every fault, then checks that everything is live and that nothing is lost or left behind. */
async function finish(world: ChannelWorld): Promise<void> {
  if (world.blackholed) world.proxy.resume()
  world.env.emit({ type: 'online' })
  await world.redisLink?.refuse(false)
  for (let node = 0; node < world.nodes.length; node++) if (!world.nodes[node]) await world.startServer(node)
  // Every node reaches its Redis again (after a restart, within its client's reconnect backoff).
  if (world.kind === 'redis') {
    for (const node of world.nodes) {
      await waitFor(() => node!.publish('model:probe', { n: 0, by: 'probe' }), { timeout: 10_000, message: 'every node to reach Redis again' })
    }
  }
  await waitFor(() => [...world.manager.connections.values()].every((c) => c.status !== 'closing'), { timeout: 5_000, message: 'user closes to complete' })
  for (const view of world.views) {
    if (!view.topic.value || !view.url.value) continue
    const connection = world.connectionOf(view)
    if (connection && (connection.status === 'closed' || connection.status === 'failed')) {
      world.closedByUser.delete(connection)
      view.channel.reconnect()
    }
  }
  const live = world.views.filter((v) => v.topic.value && v.url.value)
  // Joined on a socket of a server now running (a stop resolves before clients see their close).
  const server = world.server!
  const running = (clientId: string | null | undefined) => world.nodes.some((n) => n?.clients.has(clientId ?? ''))
  await waitFor(() => live.every((v) => v.channel.subscribed.value && running(v.channel.clientId.value)), {
    timeout: 10_000,
    message: () =>
      `every view to join the running server after healing (${live
        .map((v) => `view ${v.index}: ${v.channel.status.value}, subscribed ${v.channel.subscribed.value}, error ${v.channel.error.value?.message ?? 'none'}, on a running node ${running(v.channel.clientId.value)}`)
        .join('; ')})`,
  })

  // Live: a server publish reaches every view of its topic; a publish from each view is acked and seen.
  for (const topic of new Set(live.map((v) => v.topic.value!))) {
    const marker = await server.publish(topic, { n: ++world.counter, by: 'marker' })
    await waitFor(() => live.filter((v) => v.topic.value === topic).every((v) => v.channel.messages.value.some((m) => m.id === marker.id)), {
      timeout: 10_000,
      message: `the marker of ${topic} to reach every view`,
    })
  }
  // Presence: every view lists exactly the clients that hold its topic now, whichever node each is on (no ghost, none missing).
  const holders = (topic: string | undefined) => [...new Set(live.filter((v) => v.topic.value === topic).map((v) => v.channel.clientId.value))].sort()
  const listed = (view: View) => [...new Set(view.channel.presence.value.map((m) => m.clientId))].sort()
  await waitFor(() => live.every((v) => JSON.stringify(listed(v)) === JSON.stringify(holders(v.topic.value))), {
    timeout: 10_000,
    message: () => `presence to list the views of each topic (${live.map((v) => `view ${v.index} on ${v.topic.value} lists ${listed(v).join(',') || 'none'}, expected ${holders(v.topic.value).join(',')}`).join('; ')})`,
  })
  for (const view of live) {
    const record = world.publish(view, { n: ++world.counter, by: `final-v${view.index}` }, {})
    await waitFor(() => record.outcome, { timeout: PUBLISH_TIMEOUT + 2_000, message: `view ${view.index}'s final publish to settle` })
    expect(record.outcome, `view ${view.index}'s final publish on a healed link`).toHaveProperty('ack')
    await waitFor(() => live.filter((v) => v.topic.value === view.topic.value).every((v) => v.channel.messages.value.some((m) => m.id === record.id)), {
      timeout: 10_000,
      message: `view ${view.index}'s final publish to reach every view of its topic`,
    })
  }

  for (const view of live) {
    const record = world.request(view)
    await waitFor(() => record.outcome, { timeout: PUBLISH_TIMEOUT + 2_000, message: `view ${view.index}'s final request to settle` })
    expect(record.outcome, `view ${view.index}'s final request on a healed link`).toHaveProperty('data')
  }

  // Every publish and request promise settles (ack or answer, refusal or timeout), once.
  await waitFor(() => world.publishes.every((p) => p.settled === 1), { timeout: PUBLISH_TIMEOUT + 3_000, message: 'every publish to settle' })
  await waitFor(() => world.requests.every((r) => r.settled === 1), { timeout: PUBLISH_TIMEOUT + 3_000, message: 'every request to settle' })
  checkInvariants(world)
  for (const { message, where } of world.unverified.values()) {
    expect(world.storedOrAcked(message) || world.rejectedButStored(message), `${where}: not what the server stored (nor acked) under that seq, nor a rejected publish of this world`).toBe(true)
  }
  for (const record of world.publishes) {
    if (record.ephemeral || !record.outcome || !('ack' in record.outcome)) continue
    const seq = record.outcome.ack.seq
    expect(seq, `the ack of stored publish ${record.id} has a seq`).toBeTypeOf('number')
    const stored = world.truth.get(`${record.outcome.ack.epoch}|${record.topic}|${seq}`)
    // (No publish event for it: a store answer lost with a cut link to Redis; see `unverified`.)
    if (stored === undefined && world.redisFaults > 0) continue
    expect(stored, `acked ${record.id} is stored under seq ${seq}`).toBe(record.id)
  }
  await waitFor(() => world.views.every((v) => v.channel.pending.value.every((p) => p.state === 'failed')), {
    timeout: 2_000,
    message: 'only failed publishes listed as pending once all settled',
  })
  for (const view of world.views) {
    for (const entry of view.channel.pending.value) {
      const record = [...world.publishes].reverse().find((p) => p.view === view.index && p.id === entry.id && p.topic === entry.topic)
      expect(record?.outcome, `pending entry ${entry.id} (${entry.topic}) of view ${view.index} matches a rejected publish`).toHaveProperty('error')
    }
  }

  // Dispose: nothing pending, every connection closed, no timer left.
  for (const view of world.views) view.scope.stop()
  world.manager.dispose()
  await waitFor(() => [...world.connections].every((c) => c.status === 'closed' || c.status === 'failed'), { timeout: 5_000, message: 'every connection to close' })
  expect(world.pendingCalls(), 'protocol calls still pending after dispose').toBe(0)
  await waitFor(() => world.timers.live.size === 0, { timeout: 3_000, message: 'no timer left after dispose' })
}

/** The redis-server of the Redis runs (one for the file; each run keys its topics under its own prefix). */
let redis: RedisServer
let runs = 0
/** A short-lived admin connection (the server may have restarted since the last one). */
async function redisCommand(args: string[]): Promise<void> {
  const admin = createClient({ url: redis.url })
  admin.on('error', () => {})
  try {
    await admin.connect()
    await admin.sendCommand(args)
  } finally {
    admin.destroy()
  }
}
const RUNS = Number(process.env.FC_RUNS ?? 40)
/** Which stores to draw from: all three, or FC_KIND=memory|sqlite|redis. */
const KINDS: StoreKind[] = ['memory', 'sqlite', 'redis'].includes(process.env.FC_KIND ?? '') ? [process.env.FC_KIND as StoreKind] : ['memory', 'sqlite', 'redis']
/** Which transports to draw from: all, or FC_TRANSPORT=ws|"crossws 0.3"|"crossws 0.4". */
const TRANSPORTS: Transport[] = ['ws', 'crossws 0.3', 'crossws 0.4'].includes(process.env.FC_TRANSPORT ?? '') ? [process.env.FC_TRANSPORT as Transport] : ['ws', 'crossws 0.3', 'crossws 0.4']

beforeAll(async () => {
  redis = await startRedis()
})
afterAll(async () => {
  await redis?.stop()
})

async function runModel(kind: StoreKind, transport: Transport, cmds: Iterable<Cmd>): Promise<void> {
  const world = new ChannelWorld(kind, { server: redis, prefix: `model${++runs}:` }, transport)
  try {
    await world.start()
    await quiet(world, 5_000)
    const model: Model = { kind, up: world.nodes.map(() => true), routed: 0, online: true, blackholed: false, redisCut: false }
    await fc.asyncModelRun(() => ({ model, real: world }), cmds)
    // Its own waits add up to about 45 s at most.
    await bounded(finish(world), 90_000, 'the heal and the final checks')
    if (process.env.FC_DEBUG) console.log(kind, transport, String(cmds), world.publishes.map((p) => (p.outcome && 'ack' in p.outcome ? 'ok' : (p.outcome?.error as { code?: string })?.code)).join(' '), world.requests.map((r) => (r.outcome && 'data' in r.outcome ? 'answered' : r.outcome?.error.code)).join(' '))
  } catch (error) {
    // Shrinking a failure of real servers takes minutes: say what failed as soon as it does.
    if (process.env.FC_DEBUG) console.log(`FAILED (${kind}, ${transport}): ${String(cmds)}\n  ${(error as Error)?.message?.split('\n')[0]}`)
    throw error
  } finally {
    await bounded(world.dispose(), COMMAND_BOUND, 'disposing the world (proxies, servers, engines)')
    world.cleanupFiles()
  }
  // Shutdowns included: a server that reports an error lost or mishandled something, except
  // that it could not reach a Redis that went away (it refused what needed it, saying so).
  const unexpected = world.serverErrors.filter((e) => !(world.redisFaults > 0 && /redisEngine: Redis at \S+ is unreachable/.test(e)))
  expect(unexpected, 'errors the server reported').toEqual([])
}

describe('channels, model-based, against real servers behind the fault proxy', () => {
  it('keep every invariant under generated sequences of publishes, switches and faults (memory, SQLite, two nodes on Redis)', async () => {
    const seed = process.env.FC_SEED === undefined ? undefined : Number(process.env.FC_SEED)
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...KINDS), fc.constantFrom(...TRANSPORTS), fc.commands(commands, { maxCommands: 30, size: 'max', replayPath: process.env.FC_REPLAY }), runModel),
      {
        numRuns: RUNS,
        ...(seed !== undefined ? { seed, path: process.env.FC_PATH } : {}),
      },
    )
  }, 200_000 + RUNS * 3_000)
})

describe('channels, shrunk counterexamples', () => {
  it('a blackholed link, a server stop and a URL switch: the server reports no error (its engine closed before the cut sockets left)', async () => {
    const world = new ChannelWorld('memory')
    try {
      await world.start()
      await quiet(world, 5_000)
      world.proxy.blackhole()
      world.blackholes++
      world.blackholed = true
      await world.stopServer()
      world.views[0].url.value = world.url('/?v=0')
      await finish(world)
    } finally {
      await world.dispose()
      world.cleanupFiles()
    }
    expect(world.serverErrors, 'errors the server reported').toEqual([])
  }, 60_000)
})
