/**
 * The contract every engine passes (memory, SQLite, Redis): call
 * `engineConformance(name, harness)` from a test file. The harness makes a fresh engine (and
 * backing store) per test, and a second node on the same store, so fan-out between server
 * processes is tested without servers.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { EngineError, type EngineEvent, type EngineMessage, type EnginePublish, type RealtimeEngine } from '../../src/server'
import { waitFor } from '../support/wait'

export interface ConformanceOptions {
  /** Messages kept per topic. */
  historyLimit?: number
  /** Publish ids remembered per topic. */
  dedupeWindow?: number
  /** Topics the engine may hold in memory (engines without such a cap may ignore it). */
  maxTopics?: number
}

export interface EngineNodes {
  /** Node A. */
  engine: RealtimeEngine
  /** Another node on the same backing store (another Redis client; the same instance for memory). */
  node(): Promise<RealtimeEngine>
  /** Closes every node and removes the backing store. */
  close(): Promise<void>
}

export interface EngineHarness {
  create(options: ConformanceOptions): Promise<EngineNodes>
  /**
   * Makes the store lose a topic's numbering, as a Redis restart without persistence, a
   * deleted database or a memory eviction would. Omit when the engine cannot lose one topic
   * (the epoch test is then not registered).
   */
  lose?(nodes: EngineNodes, topic: string): Promise<void>
}

let n = 0
/** A message to publish; ids are unique unless given. */
export function draft(topic: string, extra: Partial<EnginePublish> = {}): EnginePublish {
  n++
  return { topic, id: `id-${n}`, data: JSON.stringify({ n }), from: 'client-1', ts: 1_700_000_000_000 + n, ...extra }
}

function seqs(messages: EngineMessage[]): number[] {
  return messages.map((m) => m.seq)
}

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i)
}

/** Records a topic's deliveries to one listener. */
async function listen(engine: RealtimeEngine, topic: string) {
  const events: EngineEvent[] = []
  const unsubscribe = await engine.subscribe(topic, (event) => events.push(event))
  const messages = () => events.flatMap((e) => (e.type === 'message' ? [e.message] : []))
  return { events, messages, unsubscribe }
}

export function engineConformance(name: string, harness: EngineHarness): void {
  describe(`engine conformance: ${name}`, () => {
    let nodes: EngineNodes | null = null
    afterEach(async () => {
      await nodes?.close()
      nodes = null
    })
    async function setup(options: ConformanceOptions = {}): Promise<EngineNodes> {
      nodes = await harness.create(options)
      await nodes.engine.ready()
      return nodes
    }

    it('numbers each topic 1, 2, 3... within one epoch, and creates a topic once', async () => {
      const { engine } = await setup()
      const first = await engine.publish(draft('a'))
      expect(first).toMatchObject({ seq: 1, duplicate: false, created: true })
      expect(first.epoch).toMatch(/^.{1,64}$/)
      const second = await engine.publish(draft('a'))
      expect(second).toMatchObject({ seq: 2, epoch: first.epoch, created: false })
      expect((await engine.publish(draft('b'))).seq).toBe(1)
      expect(second.message).toMatchObject({ topic: 'a', seq: 2, epoch: first.epoch, from: 'client-1' })
      expect(JSON.parse(second.message.data)).toEqual({ n: expect.any(Number) })
    })

    it('keeps seqs contiguous under concurrent publishes from two nodes', async () => {
      const { engine, node } = await setup()
      const other = await node()
      const results = await Promise.all(range(1, 200).map((i) => (i % 2 ? engine : other).publish(draft('busy'))))
      expect(results.map((r) => r.seq).sort((x, y) => x - y)).toEqual(range(1, 200))
      expect(new Set(results.map((r) => r.epoch)).size).toBe(1)
      const history = await engine.history('busy', { since: 0, limit: 1000 })
      expect(history.head).toBe(200)
      expect(seqs(history.messages)).toEqual(range(1, 200))
    })

    it('returns the ORIGINAL message for a duplicate id, stores and delivers nothing', async () => {
      const { engine } = await setup()
      const watch = await listen(engine, 't')
      const original = await engine.publish(draft('t', { id: 'same', data: '"first"' }))
      const again = await engine.publish(draft('t', { id: 'same', data: '"second"', from: 'client-2' }))
      expect(again).toMatchObject({ duplicate: true, seq: original.seq, epoch: original.epoch, created: false })
      expect(again.message).toEqual(original.message)
      expect((await engine.history('t', { limit: 10 })).head).toBe(1)
      await engine.publish(draft('t'))
      await waitFor(() => watch.messages().length === 2)
      expect(seqs(watch.messages())).toEqual([1, 2])
      await watch.unsubscribe()
    })

    it('dedupes on a topic nobody listens to, beyond the history (bug 25), and concurrently', async () => {
      const { engine, node } = await setup({ historyLimit: 2, dedupeWindow: 50 })
      for (const id of ['a', 'b', 'c', 'd', 'e']) await engine.publish(draft('quiet', { id }))
      const again = await (await node()).publish(draft('quiet', { id: 'a' }))
      expect(again).toMatchObject({ duplicate: true, seq: 1 })
      const racing = await Promise.all(range(1, 10).map(() => engine.publish(draft('race', { id: 'one' }))))
      expect(racing.filter((r) => !r.duplicate)).toHaveLength(1)
      expect(new Set(racing.map((r) => r.seq))).toEqual(new Set([1]))
    })

    it('keeps numeric and string ids apart', async () => {
      const { engine } = await setup()
      expect((await engine.publish(draft('ids', { id: 1 }))).duplicate).toBe(false)
      expect((await engine.publish(draft('ids', { id: '1' }))).duplicate).toBe(false)
      expect((await engine.publish(draft('ids', { id: 1 }))).duplicate).toBe(true)
    })

    it('forgets ids beyond the dedupe window', async () => {
      const { engine } = await setup({ dedupeWindow: 3 })
      await engine.publish(draft('w', { id: 'old' }))
      for (let i = 0; i < 5; i++) await engine.publish(draft('w'))
      expect(await engine.publish(draft('w', { id: 'old' }))).toMatchObject({ duplicate: false, seq: 7 })
    })

    it('gives a topic its epoch when first read, keeps it, and answers another epoch with no messages', async () => {
      const { engine, node } = await setup()
      expect(await engine.exists('e')).toBe(false)
      const empty = await engine.history('e', { limit: 10 })
      expect(empty).toMatchObject({ head: 0, messages: [], created: true })
      expect(await engine.exists('e')).toBe(true)
      const published = await engine.publish(draft('e'))
      expect(published).toMatchObject({ epoch: empty.epoch, seq: 1, created: false })
      const elsewhere = await (await node()).history('e', { since: 0, limit: 10 })
      expect(elsewhere).toMatchObject({ epoch: empty.epoch, head: 1, created: false })
      expect(await engine.history('e', { since: 0, epoch: 'another-epoch', limit: 10 })).toMatchObject({ head: 1, messages: [] })
      expect(seqs((await engine.history('e', { since: 0, epoch: empty.epoch, limit: 10 })).messages)).toEqual([1])
    })

    const lose = harness.lose
    if (lose) {
      it('gives a lost topic a new epoch and never reuses numbers within one', async () => {
        const made = await setup()
        const { engine } = made
        const before = await engine.publish(draft('lost'))
        await engine.publish(draft('lost'))
        await lose(made, 'lost')
        const after = await engine.publish(draft('lost'))
        expect(after.epoch).not.toBe(before.epoch)
        expect(after.seq).toBe(1)
        expect(await engine.history('lost', { since: 2, epoch: before.epoch, limit: 10 })).toMatchObject({ epoch: after.epoch, messages: [] })
      })
    }

    it('reads the newest messages after since, within limit, maxBytes and the history limit', async () => {
      const { engine } = await setup({ historyLimit: 5 })
      for (let i = 1; i <= 8; i++) await engine.publish(draft('h', { data: JSON.stringify('x'.repeat(10)) }))
      const all = await engine.history('h', { since: 0, limit: 100 })
      expect(all.head).toBe(8)
      expect(seqs(all.messages)).toEqual([4, 5, 6, 7, 8])
      expect(seqs((await engine.history('h', { since: 5, limit: 100 })).messages)).toEqual([6, 7, 8])
      expect(seqs((await engine.history('h', { since: 0, limit: 2 })).messages)).toEqual([7, 8])
      expect(seqs((await engine.history('h', { limit: 3 })).messages)).toEqual([6, 7, 8])
      // Each payload is 12 characters of JSON text.
      expect(seqs((await engine.history('h', { since: 0, limit: 100, maxBytes: 30 })).messages)).toEqual([7, 8])
      expect((await engine.history('h', { since: 8, limit: 100 })).messages).toEqual([])
      expect((await engine.history('h', { since: 50, limit: 100 })).messages).toEqual([])
      expect(await engine.history('h', { since: 0, limit: 0 })).toMatchObject({ head: 8, messages: [] })
    })

    it('fans out to a listener on another node, in order, exactly once', async () => {
      const { engine, node } = await setup()
      const other = await node()
      const here = await listen(engine, 'f')
      const there = await listen(other, 'f')
      for (let i = 0; i < 20; i++) await (i % 2 ? engine : other).publish(draft('f'))
      await engine.publish(draft('not-f'))
      await waitFor(() => here.messages().length === 20 && there.messages().length === 20, { message: 'both nodes got 20 messages' })
      expect(seqs(here.messages())).toEqual(range(1, 20))
      expect(seqs(there.messages())).toEqual(range(1, 20))
      await there.unsubscribe()
      await engine.publish(draft('f'))
      await waitFor(() => here.messages().length === 21)
      // The removed listener stays removed; a new subscription on the same node works.
      const again = await listen(other, 'f')
      await engine.publish(draft('f'))
      await waitFor(() => again.messages().length >= 1)
      expect(there.messages()).toHaveLength(20)
      expect(seqs(again.messages()).at(-1)).toBe(22)
      await Promise.all([here.unsubscribe(), again.unsubscribe()])
    })

    it('delivers ephemeral messages across nodes, once per id, and never stores them', async () => {
      const { engine, node } = await setup()
      const other = await node()
      const there = await listen(other, 'typing')
      const typing = draft('typing', { id: 'typing-1' })
      expect(await engine.broadcast(typing)).toEqual({ duplicate: false })
      expect(await engine.broadcast(typing)).toEqual({ duplicate: true })
      expect(await engine.broadcast(draft('typing', { id: 'typing-2' }))).toEqual({ duplicate: false })
      await waitFor(() => there.events.length === 2)
      expect(there.events.map((e) => e.type === 'ephemeral' && e.message.id)).toEqual(['typing-1', 'typing-2'])
      expect((await engine.history('typing', { since: 0, limit: 10 })).head).toBe(0)
      await there.unsubscribe()
    })

    it('keeps presence across nodes and delivers its events', async () => {
      const { engine, node } = await setup()
      const other = await node()
      const there = await listen(other, 'room')
      const ada = { clientId: 'ada-1', user: { name: 'ada' }, online: true, lastSeen: 1 }
      await engine.announce('room', 'join', ada)
      await other.announce('room', 'join', { clientId: 'bob-1', online: true, lastSeen: 2 })
      expect((await other.members('room')).map((m) => m.clientId).sort()).toEqual(['ada-1', 'bob-1'])
      await engine.announce('room', 'offline', { ...ada, online: false })
      expect((await other.members('room')).find((m) => m.clientId === 'ada-1')).toMatchObject({ online: false, user: { name: 'ada' } })
      await engine.announce('room', 'leave', ada)
      expect((await engine.members('room')).map((m) => m.clientId)).toEqual(['bob-1'])
      // A late online of a member that left does not bring it back, nor does a second leave say anything.
      await engine.announce('room', 'online', ada)
      await engine.announce('room', 'leave', ada)
      expect((await other.members('room')).map((m) => m.clientId)).toEqual(['bob-1'])
      await waitFor(() => there.events.length === 4)
      expect(there.events.map((e) => e.type === 'presence' && `${e.event}:${e.member.clientId}`)).toEqual(['join:ada-1', 'join:bob-1', 'offline:ada-1', 'leave:ada-1'])
      expect(await engine.members('nobody')).toEqual([])
      await there.unsubscribe()
    })

    it('lists the topics it holds', async () => {
      const { engine } = await setup()
      await engine.publish(draft('one'))
      await engine.publish(draft('two'))
      expect(new Set(await engine.topics())).toEqual(new Set(['one', 'two']))
    })

    it('never evicts a topic with a listener, and fails a flood only with server_full', async () => {
      const { engine } = await setup({ maxTopics: 5 })
      const pinned = await listen(engine, 'pinned')
      const start = await engine.publish(draft('pinned'))
      for (let i = 0; i < 40; i++) {
        try {
          await engine.publish(draft(`flood-${i}`))
        } catch (error) {
          expect(error).toBeInstanceOf(EngineError)
          expect((error as EngineError).code).toBe('server_full')
        }
      }
      const after = await engine.publish(draft('pinned'))
      expect(after).toMatchObject({ epoch: start.epoch, seq: 2 })
      await waitFor(() => pinned.messages().length === 2)
      expect(seqs(pinned.messages())).toEqual([1, 2])
      await pinned.unsubscribe()
    })
  })
}
