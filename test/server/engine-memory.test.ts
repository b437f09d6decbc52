import { describe, expect, it } from 'vitest'
import { EngineError, memoryEngine } from '../../src/server'
import { draft, engineConformance } from './engine-conformance'

/** Topics the conformance harness lets a memory engine hold, so losing one is cheap. */
const HARNESS_TOPICS = 50

engineConformance('memory', {
  async create(options) {
    const engine = memoryEngine({ maxTopics: HARNESS_TOPICS, ...options })
    // Two servers sharing one memory engine are two nodes of one process.
    return { engine, node: async () => engine, close: () => engine.close() }
  },
  // An idle topic is lost when enough newer topics push it out.
  async lose({ engine }, topic) {
    for (let i = 0; i < HARNESS_TOPICS; i++) await engine.publish(draft(`${topic}-pusher-${i}`))
  },
})

describe('memoryEngine bounds', () => {
  it('evicts the least recently used idle topic first', async () => {
    const engine = memoryEngine({ maxTopics: 3 })
    for (const topic of ['a', 'b', 'c']) await engine.publish(draft(topic))
    await engine.history('a', { limit: 0 }) // a is now the most recently used
    await engine.publish(draft('d'))
    expect(new Set(await engine.topics())).toEqual(new Set(['a', 'c', 'd']))
    await engine.close()
  })

  it('refuses a new topic with server_full when every held topic has a listener, and recovers when one leaves', async () => {
    const engine = memoryEngine({ maxTopics: 2 })
    const removers = [await engine.subscribe('x', () => {}), await engine.subscribe('y', () => {})]
    await engine.history('x', { limit: 0 })
    await engine.history('y', { limit: 0 })
    const refused = engine.publish(draft('z'))
    await expect(refused).rejects.toBeInstanceOf(EngineError)
    await expect(refused).rejects.toMatchObject({ code: 'server_full', message: expect.stringMatching(/retry later/) })
    await removers[0]()
    expect((await engine.publish(draft('z'))).seq).toBe(1)
    expect(await engine.exists('x')).toBe(false)
    expect(await engine.exists('y')).toBe(true)
    await removers[1]()
    await engine.close()
  })

  it('keeps the held bytes under maxBytes: idle topics go first, then the oldest messages of listened ones', async () => {
    const payload = JSON.stringify('x'.repeat(1000))
    const engine = memoryEngine({ maxBytes: 50_000 })
    const live: number[] = []
    await engine.subscribe('live', (e) => e.type === 'message' && live.push(e.message.seq))
    for (let i = 0; i < 30; i++) await engine.publish(draft('live', { data: payload }))
    for (let i = 0; i < 200; i++) await engine.publish(draft(`idle-${i}`, { data: payload }))
    const topics = await engine.topics()
    expect(topics).toContain('live')
    expect(topics.length).toBeLessThan(50)
    // The live topic lost no delivery, only old history when it alone was over the cap.
    expect(live).toEqual(Array.from({ length: 30 }, (_, i) => i + 1))
    for (let i = 0; i < 100; i++) await engine.publish(draft('live', { data: payload }))
    const history = await engine.history('live', { since: 0, limit: 1000 })
    expect(history.head).toBe(130)
    expect(history.messages.length).toBeGreaterThan(0)
    expect(history.messages.length * payload.length).toBeLessThan(50_000)
    expect(history.messages.at(-1)?.seq).toBe(130)
    await engine.close()
  })

  it('validates its options and refuses use after close', async () => {
    expect(() => memoryEngine({ maxTopics: 0 })).toThrow(/maxTopics.*integer >= 1/)
    expect(() => memoryEngine({ maxBytes: 1.5 })).toThrow(/maxBytes/)
    const engine = memoryEngine()
    await engine.close()
    await expect(engine.publish(draft('t'))).rejects.toThrow(/closed; create a new one/)
  })

  it('forgets an ephemeral id after its window', async () => {
    let now = 0
    const engine = memoryEngine({ ephemeralDedupeMs: 1000, now: () => now })
    const typing = draft('typing', { id: 'k' })
    expect(await engine.broadcast(typing)).toEqual({ duplicate: false })
    now = 999
    expect(await engine.broadcast(typing)).toEqual({ duplicate: true })
    now = 1000
    expect(await engine.broadcast(typing)).toEqual({ duplicate: false })
    await engine.close()
  })
})
