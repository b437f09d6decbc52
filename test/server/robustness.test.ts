import { afterEach, describe, expect, it } from 'vitest'
import type { RealtimeServer, RealtimeServerOptions } from '../../src/server'
import { connect, startServer, type TestClient } from './helpers'

let server: RealtimeServer<unknown> | null = null
const clients: TestClient[] = []

async function setup(options: RealtimeServerOptions = {}) {
  server = await startServer(options)
  const c = await connect(server.url)
  clients.push(c)
  return c
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
  await server?.close()
  server = null
})

describe('bad frames get an error frame and the connection stays', () => {
  const cases: Array<[string, string | Buffer, Record<string, unknown>]> = [
    ['malformed JSON', '{"type":"subscribe",', { code: 'bad_json' }],
    ['a JSON array', '[1,2,3]', { code: 'invalid_frame' }],
    ['no type', '{"topic":"a"}', { code: 'unknown_type' }],
    ['unknown type', '{"type":"explode","id":"q1"}', { code: 'unknown_type', frame: 'explode', ref: 'q1' }],
    ['binary', Buffer.from([0, 1, 2, 255]), { code: 'binary_not_supported' }],
    ['invalid topic', '{"type":"subscribe","topic":"<script>"}', { code: 'invalid_topic', frame: 'subscribe', topic: '<script>' }],
    ['too long topic', JSON.stringify({ type: 'subscribe', topic: 'a'.repeat(129) }), { code: 'invalid_topic' }],
    ['bad since', '{"type":"subscribe","topic":"a","since":-1}', { code: 'invalid_frame', topic: 'a' }],
    ['publish without id', '{"type":"publish","topic":"a","data":1}', { code: 'invalid_frame', topic: 'a' }],
    ['publish without data', '{"type":"publish","topic":"a","id":"x"}', { code: 'invalid_frame', ref: 'x' }],
    ['request without method', '{"type":"request","id":7}', { code: 'invalid_frame', ref: 7 }],
  ]
  for (const [name, payload, expected] of cases) {
    it(name, async () => {
      const c = await setup()
      c.send(payload)
      expect(await c.waitType('error')).toMatchObject(expected)
      // Still connected and served.
      await c.roundTrip()
      expect((await c.subscribe('still-here')).type).toBe('subscribed')
    })
  }

  it('answers the bare text "ping" of useWebSocket\'s default heartbeat', async () => {
    const c = await setup()
    c.send('ping')
    expect(typeof (await c.waitType('pong')).ts).toBe('number')
  })
})

describe('limits', () => {
  it('closes a flooding connection with 1008 and a reason naming the limit', async () => {
    const c = await setup({ rateLimit: { messages: 20, perMs: 60_000 } })
    for (let i = 0; i < 100 && c.ws.readyState === c.ws.OPEN; i++) c.send({ type: 'ping', ts: i })
    const closed = await c.closed
    expect(closed.code).toBe(1008)
    expect(closed.reason).toMatch(/rate limit: more than 20 frames per 60000 ms/)
    // Others are unaffected.
    const other = await connect(server!.url)
    clients.push(other)
    await other.roundTrip()
  })

  it('closes with 1009 on a frame over maxPayload', async () => {
    const c = await setup({ maxPayload: 1024 })
    c.send({ type: 'publish', topic: 'a', id: 'big', data: 'x'.repeat(2048) })
    expect((await c.closed).code).toBe(1009)
    const other = await connect(server!.url)
    clients.push(other)
    expect((await other.publish('a', 'small', 'ok')).seq).toBe(1)
  })

  it('accepts frames up to maxPayload', async () => {
    const c = await setup({ maxPayload: 4096 })
    expect((await c.publish('a', 'fits', 'x'.repeat(3000))).seq).toBe(1)
  })
})

describe('fuzz', () => {
  /** Deterministic PRNG so a failure reproduces. */
  function prng(seed: number) {
    return () => {
      seed = (seed * 1664525 + 1013904223) >>> 0
      return seed / 2 ** 32
    }
  }

  it('survives hundreds of random byte strings and JSON shapes', async () => {
    const c = await setup({ rateLimit: false })
    const rand = prng(42)
    const pick = <T>(items: T[]): T => items[Math.floor(rand() * items.length)]
    const values: unknown[] = [null, true, 0, -1, 1e308, 'x', '', [], {}, { a: 1 }, 'a'.repeat(300), 2 ** 53 + 1, 1.5]
    const types = ['subscribe', 'unsubscribe', 'publish', 'request', 'ping', 'constructor', '__proto__', 'toString', '']
    const fields = ['topic', 'id', 'data', 'since', 'history', 'method', 'ts', 'ephemeral', '__proto__']
    for (let i = 0; i < 400; i++) {
      const kind = rand()
      if (kind < 0.3) {
        const bytes = Buffer.alloc(Math.floor(rand() * 64))
        for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(rand() * 256)
        if (rand() < 0.5) c.ws.send(bytes, { binary: true })
        else c.send(bytes.toString('latin1')) // arbitrary characters, valid UTF-8 on the wire
      } else if (kind < 0.4) {
        c.send(pick(['{', '}', '"', 'null', '1', '[]', '{"type":', 'ping', '\u0000', '{"type":"publish"}']))
      } else {
        const frame: Record<string, unknown> = { type: pick(types) }
        for (const field of fields) if (rand() < 0.5) frame[field] = pick([...values, 'room', 'room/1', 'r' + i])
        c.send(JSON.stringify(frame))
      }
    }
    await c.roundTrip()
    expect(c.ws.readyState).toBe(c.ws.OPEN)
    expect(c.of('error').length).toBeGreaterThan(100)
    // Invalid UTF-8 in a text frame: ws closes that socket with 1007; the server lives on.
    c.ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false })
    expect((await c.closed).code).toBe(1007)
    const after = await connect(server!.url)
    clients.push(after)
    await after.roundTrip()
    expect((await after.publish('fuzz-check', 'ok', 1)).type).toBe('ack')
  })
})
