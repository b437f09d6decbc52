/**
 * Regression tests for the server bugs of issue 14 (numbers as in the issue), each against the
 * real server over loopback sockets.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { type RealtimeServer, type RealtimeServerOptions } from '../../src/server'
import { connect, startServer, until, type TestClient } from './helpers'

let server: RealtimeServer<unknown> | null = null
const clients: TestClient[] = []

async function setup(options: RealtimeServerOptions = {}) {
  server = await startServer(options)
  return server
}
async function client(): Promise<TestClient> {
  const c = await connect(server!.url)
  clients.push(c)
  return c
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
  await server?.close()
  server = null
})

/** Resolves after `ms` of real time (only to make an `authorize` hook slow, never to wait for a result). */
const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('bug 19: deep nesting', () => {
  it('refuses a deeply nested payload with invalid_frame before storing it; the topic stays healthy', async () => {
    await setup()
    const [publisher, watcher] = [await client(), await client()]
    await watcher.subscribe('deep')
    // 6000 nested arrays: about 12 KB, parses, but cannot be encoded again.
    const nested = '['.repeat(6000) + ']'.repeat(6000)
    publisher.send(`{"type":"publish","topic":"deep","id":"bomb","data":${nested}}`)
    expect(await publisher.waitType('error', (f) => f.ref === 'bomb')).toMatchObject({ code: 'invalid_frame', topic: 'deep', frame: 'publish' })
    expect((await publisher.publish('deep', 'fine', { ok: true })).seq).toBe(1)
    await watcher.waitType('message', (f) => f.id === 'fine')
    expect(watcher.of('message').map((m) => m.seq)).toEqual([1])
    // A replay over the topic works (it answered `internal` before).
    const late = await client()
    expect(await late.subscribe('deep', { since: 0 })).toMatchObject({ seq: 1, recovered: true })
    expect(late.of('error')).toEqual([])
  })
})

describe('bug 22: a large replay', () => {
  it('is capped by bytes with recovered: false instead of closing the client as a slow consumer', async () => {
    await setup({ maxBufferedAmount: 1_000_000 })
    const big = 'x'.repeat(40_000)
    for (let i = 1; i <= 200; i++) await server!.publish('big', { i, big }, { id: `m${i}` })
    const c = await client()
    const subscribed = await c.subscribe('big', { since: 0 })
    expect(subscribed).toMatchObject({ seq: 200, recovered: false })
    const seqs = c.of('message').map((m) => m.seq as number)
    // The newest ones, contiguous up to the head.
    expect(seqs.length).toBeGreaterThan(0)
    expect(seqs.length).toBeLessThan(200)
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => 201 - seqs.length + i))
    await c.roundTrip()
    expect(c.ws.readyState).toBe(c.ws.OPEN)
  })
})

describe('bug 23: back-to-back subscribes while authorize answers differently', () => {
  it('a slow refusal then a fast grant: answered in order, no ghost after unsubscribe or close', async () => {
    let calls = 0
    await setup({
      authorize: async (_user, _topic, action) => {
        if (action !== 'subscribe') return true
        calls++
        if (calls === 1) {
          await delay(50)
          return false
        }
        return true
      },
    })
    const [a, b] = [await client(), await client()]
    a.send({ type: 'subscribe', topic: 'ghost' })
    a.send({ type: 'subscribe', topic: 'ghost' })
    await a.waitType('subscribed', (f) => f.topic === 'ghost')
    const answers = a.frames.filter((f) => f.type === 'error' || f.type === 'subscribed').map((f) => (f.type === 'error' ? f.code : f.type))
    expect(answers).toEqual(['forbidden', 'subscribed'])
    a.send({ type: 'unsubscribe', topic: 'ghost' })
    await a.waitType('unsubscribed')
    await b.publish('ghost', 'after', 1)
    await a.roundTrip()
    expect(a.of('message')).toEqual([])
    expect(server!.topics()).toEqual([])
    expect(await server!.presence('ghost')).toEqual([])
  })

  it('a slow grant then a fast refusal: the later answer wins, nothing keeps receiving', async () => {
    let calls = 0
    await setup({
      authorize: async (_user, _topic, action) => {
        if (action !== 'subscribe') return true
        calls++
        if (calls === 1) {
          await delay(50)
          return true
        }
        return false
      },
    })
    const [a, b] = [await client(), await client()]
    a.send({ type: 'subscribe', topic: 'ghost' })
    a.send({ type: 'subscribe', topic: 'ghost' })
    await a.waitType('error', (f) => f.topic === 'ghost')
    const answers = a.frames.filter((f) => f.type === 'error' || f.type === 'subscribed').map((f) => (f.type === 'error' ? f.code : f.type))
    expect(answers).toEqual(['subscribed', 'forbidden'])
    await b.publish('ghost', 'after', 1)
    await a.roundTrip()
    expect(a.of('message')).toEqual([])
    expect(server!.topics()).toEqual([])
  })

  it('a subscribe followed at once by an unsubscribe gets both answers, in order', async () => {
    await setup({ authorize: async () => (await delay(30), true) })
    const a = await client()
    a.send({ type: 'subscribe', topic: 'quick' })
    a.send({ type: 'unsubscribe', topic: 'quick' })
    await a.waitType('unsubscribed')
    await a.roundTrip()
    expect(a.frames.filter((f) => f.topic === 'quick').map((f) => f.type)).toEqual(['subscribed', 'unsubscribed'])
    expect(server!.topics()).toEqual([])
  })

  it('a closed client leaves presence and frees the topic even when its subscribes raced', async () => {
    let refuseNext = false
    await setup({
      authorize: async () => {
        if (!refuseNext) return true
        refuseNext = false
        await delay(40)
        return false
      },
    })
    const [a, b] = [await client(), await client()]
    await b.subscribe('room')
    refuseNext = true
    a.send({ type: 'subscribe', topic: 'room' })
    a.send({ type: 'subscribe', topic: 'room' })
    await a.waitType('subscribed')
    await a.waitType('error')
    await a.close()
    await b.waitType('presence', (f) => f.event === 'leave')
    await until(() => server!.clients.size === 1, 'the server dropped the client')
    expect((await server!.presence('room')).map((m) => m.clientId)).toEqual([b.clientId])
  })
})

describe('bug 25: dedupe without subscribers', () => {
  it('deduplicates a resent id on an unwatched topic whose history is shorter than the dedupe window', async () => {
    await setup({ historyLimit: 2, dedupeWindow: 100 })
    const a = await client()
    for (const id of ['a', 'b', 'c', 'd']) await a.publish('quiet', id, id)
    expect(await a.publish('quiet', 'a', 'a')).toMatchObject({ type: 'ack', id: 'a', seq: 1 })
    expect((await a.publish('quiet', 'e', 'e')).seq).toBe(5)
  })
})

describe('bug 27: server.publish with a stored id', () => {
  it('returns the original message, flagged as a duplicate', async () => {
    await setup()
    const first = await server!.publish('t', { v: 1 }, { id: 'same' })
    expect(first).toMatchObject({ seq: 1, data: { v: 1 }, duplicate: false })
    const again = await server!.publish('t', { v: 2 }, { id: 'same' })
    expect(again).toMatchObject({ seq: 1, data: { v: 1 }, duplicate: true, ts: first.ts, epoch: first.epoch })
  })
})

describe('bug 11: a resent ephemeral publish', () => {
  it('is acked again but broadcast once', async () => {
    await setup()
    const [a, b] = [await client(), await client()]
    await b.subscribe('typing')
    for (let i = 0; i < 2; i++) a.send({ type: 'publish', topic: 'typing', id: 'e1', data: { typing: true }, ephemeral: true })
    a.send({ type: 'publish', topic: 'typing', id: 'e2', data: { typing: false }, ephemeral: true })
    await b.waitType('message', (f) => f.id === 'e2')
    await until(() => a.of('ack').length === 3, 'three acks')
    expect(a.of('ack')).toEqual([
      { type: 'ack', id: 'e1' },
      { type: 'ack', id: 'e1' },
      { type: 'ack', id: 'e2' },
    ])
    expect(b.of('message').map((m) => m.id)).toEqual(['e1', 'e2'])
  })
})
