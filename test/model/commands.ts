/**
 * The commands of the model-based test of `Connection` + `ConnectionManager` (fast-check
 * `fc.commands`): what consumers, the browser, the server and the clock can do, each applied
 * to the world. The model only tracks how many consumers hold a connection, so commands that
 * need one are generated only then and shrink consistently.
 */
import fc from 'fast-check'
import type { Connection } from '../../src/core/connection'
import { URLS, type FrameRecord, type ModelSocket, type World } from './world'

export interface Model {
  consumers: number
}

type Command = fc.Command<Model, World<ModelSocket>>

const site = fc.integer({ min: 0, max: URLS.length - 1 })
const consumer = fc.nat({ max: 7 })

export function command(name: string, run: (world: World<ModelSocket>, model: Model) => void, needsConsumer = false): Command {
  return {
    check: (model) => !needsConsumer || model.consumers > 0,
    run: (model, world) => run(world, model),
    toString: () => name,
  }
}

function held(world: World<ModelSocket>, index: number): Connection {
  return world.consumers[index % world.consumers.length].connection
}

const acquire = fc.tuple(site, fc.boolean()).map(([s, open]) =>
    command(`acquire(${s}${open ? '' : ', { open: false }'})`, (world, model) => {
      const before = world.manager.get(world.urls[s])
      if (before && open) world.userClosed(before, false)
      const connection = world.manager.acquire(world.urls[s], world.sites[s].options, { open })
      world.record(connection, s)
      if (!before) world.userClosed(connection, false)
      world.consumers.push({ site: s, connection })
      model.consumers++
    }),
  )

/** What consumers do (acquire weighs more: most commands need a consumer). */
export const consumerCommands: fc.Arbitrary<Command>[] = [
  acquire,
  acquire,
  consumer.map((i) =>
    command(
      `release(${i})`,
      (world, model) => {
        const [gone] = world.consumers.splice(i % world.consumers.length, 1)
        world.manager.release(gone.connection)
        model.consumers--
      },
      true,
    ),
  ),
  consumer.map((i) =>
    command(
      `open(${i})`,
      (world) => {
        const connection = held(world, i)
        world.userClosed(connection, false)
        connection.open()
      },
      true,
    ),
  ),
  fc.tuple(consumer, fc.constantFrom(1000, 4000, 1006, 1001)).map(([i, code]) =>
    command(
      `close(${i}, ${code})`,
      (world) => {
        const connection = held(world, i)
        // Before the call: a close listener may reopen, and that later action wins.
        world.userClosed(connection, true)
        connection.close(code)
      },
      true,
    ),
  ),
  consumer.map((i) =>
    command(
      `reconnect(${i})`,
      (world) => {
        const connection = held(world, i)
        world.userClosed(connection, false)
        connection.reconnect()
      },
      true,
    ),
  ),
  fc.constant(
    command('closeAll()', (world) => {
      for (const { connection } of world.consumers) world.userClosed(connection, true)
      world.manager.closeAll()
    }),
  ),
  fc.tuple(consumer, fc.constantFrom('close', 'reconnect'), fc.constantFrom('close', 'error')).map(([i, action, event]) =>
    command(
      `on(${i}, '${event}', ${action})`,
      (world) => {
        const connection = held(world, i)
        const off = connection.on(event, () => {
          off()
          world.userClosed(connection, action === 'close')
          if (action === 'close') connection.close()
          else connection.reconnect()
        })
      },
      true,
    ),
  ),
  fc.tuple(consumer, fc.boolean(), fc.constantFrom(undefined, 1_000, 20_000)).map(([i, volatile, ttl]) =>
    command(
      `send(${i}, ${volatile ? 'volatile' : `ttl ${ttl}`})`,
      (world) => {
        const connection = held(world, i)
        const record = world.record(connection, world.consumers[i % world.consumers.length].site)
        const id = world.nextMessageId(record)
        const result = connection.send(JSON.stringify({ m: id }), { volatile, ttl })
        record.sends.push({ id, result })
      },
      true,
    ),
  ),
  consumer.map((i) =>
    command(
      `sendFrame(${i})`,
      (world) => {
        const connection = held(world, i)
        const record = world.record(connection, world.consumers[i % world.consumers.length].site)
        const frame: FrameRecord = { id: world.nextMessageId(record), result: 'dropped', settled: [] }
        record.frames.push(frame)
        frame.result = connection.sendFrame(JSON.stringify({ f: frame.id }), (written) => frame.settled.push(written))
        // Known at once: told synchronously, before the call returns.
        if (frame.result !== 'queued' && frame.settled.join() !== String(frame.result === 'sent')) {
          throw new Error(`invariant: sendFrame returned ${frame.result} but settled ${JSON.stringify(frame.settled)}`)
        }
      },
      true,
    ),
  ),
]

/** What the browser does: network, visibility, bfcache. */
export const browserCommands: fc.Arbitrary<Command>[] = [
  fc
    .constantFrom(
      { type: 'offline' } as const,
      { type: 'online' } as const,
      { type: 'hidden' } as const,
      { type: 'visible' } as const,
      { type: 'pagehide', persisted: true } as const,
      { type: 'pagehide', persisted: false } as const,
      { type: 'pageshow', persisted: true } as const,
      { type: 'pageshow', persisted: false } as const,
    )
    .map((event) => command(`${event.type}${'persisted' in event ? `(${event.persisted})` : ''}`, (world) => world.browser.emit(event))),
  // A laptop wakes up: the wall clock jumps, no timer fired meanwhile; or the system clock is
  // set back (by hand, or an NTP correction).
  fc.oneof(fc.integer({ min: 1_000, max: 120_000 }), fc.integer({ min: -3_600_000, max: -1_000 })).map((ms) =>
    command(`jump(${ms})`, (world) => {
      world.browser.skew += ms
    }),
  ),
]

/** What the server does, played through `ModelSocket`s, and the fake clock. */
export const fakeServerCommands: fc.Arbitrary<Command>[] = [
  site.map((s) => command(`accept(${s})`, (world) => world.current(s)?.readyState === 0 && world.current(s)!.accept())),
  site.map((s) => command(`refuse(${s})`, (world) => world.current(s)?.readyState === 0 && world.current(s)!.refuse())),
  // Sometimes with a server's retry hint in the reason, sane or not (docs/protocol.md, "Retry hints").
  fc
    .tuple(site, fc.constantFrom(1006, 1000, 1001, 1012, 1008, 4401), fc.option(fc.tuple(fc.constantFrom(0, 1, 250, 9_999_999), fc.constantFrom(0, 100, 750, 9_999_999)), { nil: undefined }))
    .map(([s, code, hint]) => {
      const reason = hint && code !== 1006 ? `restart; retry=${hint[0]}/${hint[1]}` : ''
      return command(`drop(${s}, ${code}${reason ? `, '${reason}'` : ''})`, (world) => {
        const socket = world.current(s)
        if (socket && socket.readyState >= 1) socket.serverClose(code, reason)
      })
    }),
  site.map((s) =>
    command(`pong(${s})`, (world) => {
      const socket = world.current(s)
      if (socket?.readyState === 1 && socket.unansweredPings > 0) {
        socket.unansweredPings = 0
        socket.receive('pong')
      }
    }),
  ),
  site.map((s) => command(`data(${s})`, (world) => world.current(s)?.readyState === 1 && world.current(s)!.receive('{"data":1}'))),
  fc.tuple(site, fc.constantFrom(0, 2_000_000)).map(([s, bytes]) =>
    command(`congest(${s}, ${bytes})`, (world) => {
      const socket = world.current(s)
      if (socket) socket.bufferedAmount = bytes
    }),
  ),
  fc.oneof(fc.integer({ min: 1, max: 600 }), fc.integer({ min: 600, max: 30_000 })).map((ms) => command(`advance(${ms})`, (world) => world.advance(ms))),
]

export const commands: fc.Arbitrary<Command>[] = [...consumerCommands, ...browserCommands, ...fakeServerCommands]
