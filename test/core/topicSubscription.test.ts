/**
 * TopicSubscription's bookkeeping without a network (the network paths are proven against a
 * scripted and the real server in test/channel): bounded holding, throwing listeners, removal
 * during a callback, and a refusal followed by a later answer.
 */
import { describe, expect, it } from 'vitest'
import type { MessageFrame, SubscribeFrame, SubscribedFrame } from '../../src/core/protocol'
import { RealtimeProtocolError } from '../../src/core/protocolError'
import { TopicSubscription, type GapInfo, type TopicListener } from '../../src/core/topicSubscription'

function setup() {
  const sent: SubscribeFrame[] = []
  const reported: unknown[] = []
  /** Timers the subscription armed, in order (`cancelled` once its canceller ran). */
  const timers: { fn: () => void; ms: number; cancelled: boolean }[] = []
  const link = {
    open: () => true,
    send: (f: SubscribeFrame) => sent.push(f),
    report: (e: unknown) => reported.push(e),
    later: (fn: () => void, ms: number) => {
      const timer = { fn, ms, cancelled: false }
      timers.push(timer)
      return () => (timer.cancelled = true)
    },
    random: () => 0.5,
  }
  const topic = new TopicSubscription('t', link)
  const watch = (history = 0, extra: Partial<TopicListener> = {}) => {
    const seen = { seqs: [] as (number | undefined)[], joins: [] as SubscribedFrame[], gaps: [] as GapInfo[], errors: [] as Error[] }
    const handle = topic.add(
      { message: (m) => seen.seqs.push(m.seq), subscribed: (s) => seen.joins.push(s), gap: (g) => seen.gaps.push(g), error: (e) => seen.errors.push(e), ...extra },
      history,
    )
    return { seen, handle }
  }
  return { topic, sent, reported, watch, timers, link }
}

const message = (seq: number): MessageFrame => ({ type: 'message', topic: 't', seq, id: `m${seq}`, data: seq, from: 's', ts: 0 })
const answer = (seq: number, recovered = true): SubscribedFrame => ({ type: 'subscribed', topic: 't', seq, recovered, presence: [] })

describe('TopicSubscription', () => {
  it('holds at most a bounded number of messages while a subscribe is in flight; what it dropped is a gap', () => {
    const { topic, watch } = setup()
    const { seen } = watch(0)
    topic.answered(answer(0))
    topic.add({}, 5) // a second subscriber: one more subscribe in flight, so messages are held
    const total = 10_001
    for (let seq = 1; seq <= total; seq++) topic.message(message(seq))
    topic.answered(answer(total))
    expect(seen.seqs).toHaveLength(total - 1)
    expect(seen.seqs[0]).toBe(2)
    expect(seen.gaps).toEqual([{ topic: 't', since: 0, head: total }])
    expect(seen.joins.at(-1)?.recovered).toBe(false)
  })

  it('a throwing listener is reported and the others still get every message', () => {
    const { topic, reported, watch } = setup()
    watch(0, { message: () => { throw new Error('boom') } })
    const { seen } = watch(0)
    topic.answered(answer(0))
    topic.answered(answer(0))
    topic.message(message(1))
    topic.message(message(2))
    expect(seen.seqs).toEqual([1, 2])
    expect(reported.map((e) => (e as Error).message)).toEqual(['boom', 'boom'])
  })

  it('a subscriber removed by another one\'s callback is not called any more', () => {
    const { topic, watch } = setup()
    let second: object | undefined
    watch(0, { message: () => second && topic.remove(second) })
    const other = watch(0)
    second = other.handle
    topic.answered(answer(0))
    topic.answered(answer(0))
    topic.message(message(1))
    expect(other.seen.seqs).toEqual([])
  })

  it('a refused subscribe with a later one in flight only informs; the later answer joins', () => {
    const { topic, sent, watch } = setup()
    const { seen } = watch(3)
    topic.add({}, 0)
    expect(sent).toHaveLength(2)
    topic.refused(new Error('forbidden'))
    expect(seen.errors.map((e) => e.message)).toEqual(['forbidden'])
    expect(seen.joins).toEqual([])
    topic.message(message(4))
    topic.message(message(5))
    topic.answered(answer(5))
    expect(seen.seqs).toEqual([4, 5])
    expect(seen.joins).toHaveLength(1)
  })

  describe('a subscribe refused for now ("retry later")', () => {
    const refusal = (code: string) => new RealtimeProtocolError(code, `refused (${code})`)
    /** Timers still to run (neither cancelled nor run). */
    const live = (timers: { cancelled: boolean }[]) => timers.filter((t) => !t.cancelled)
    const fire = (timer: { fn: () => void; cancelled: boolean }) => {
      timer.cancelled = true
      timer.fn()
    }

    it('is asked again on the same socket after a backoff that grows, from where the subscriber was; a join resets it', () => {
      const { topic, sent, watch, timers } = setup()
      const { seen } = watch(0)
      topic.answered(answer(3))
      topic.lost()
      topic.rejoin()
      expect(sent.at(-1)).toEqual({ type: 'subscribe', topic: 't', since: 3 })
      topic.refused(refusal('internal'))
      expect(topic.confirmed).toBe(false)
      expect(live(timers)).toHaveLength(1)
      const first = timers[0]
      fire(first)
      expect(sent.at(-1)).toEqual({ type: 'subscribe', topic: 't', since: 3 })
      topic.refused(refusal('server_full'))
      expect(live(timers)).toHaveLength(1)
      expect(timers[1].ms).toBeGreaterThan(first.ms)
      fire(timers[1])
      topic.message(message(4))
      topic.answered(answer(4))
      expect(seen.seqs).toEqual([4])
      expect(topic.confirmed).toBe(true)
      // However many times in a row, asked again within 5 s (the store comes back without a word).
      for (let i = 0; i < 10; i++) {
        topic.lost()
        topic.rejoin()
        topic.refused(refusal('internal'))
        fire(timers.at(-1)!)
      }
      expect(Math.max(...timers.map((t) => t.ms))).toBeLessThanOrEqual(5_000)
      topic.answered(answer(4))
      // Refused again later: the backoff starts over.
      topic.lost()
      topic.rejoin()
      topic.refused(refusal('too_many_new_topics'))
      expect(timers.at(-1)!.ms).toBe(first.ms)
    })

    it('is not asked again when the refusal is final, another subscribe decides, or the socket or subscriber went', () => {
      const { topic, watch, timers } = setup()
      const { handle } = watch(0)
      topic.refused(refusal('forbidden'))
      topic.rejoin()
      topic.refused(refusal('too_many_topics'))
      expect(timers).toHaveLength(0)
      // A later subscribe in flight decides: the earlier refusal only informs.
      topic.rejoin()
      topic.add({}, 0)
      topic.refused(refusal('internal'))
      expect(timers).toHaveLength(0)
      topic.refused(refusal('internal'))
      expect(live(timers)).toHaveLength(1)
      topic.lost()
      expect(live(timers)).toHaveLength(0)
      topic.rejoin()
      topic.refused(refusal('internal'))
      topic.rejoin()
      expect(live(timers)).toHaveLength(0)
      topic.refused(refusal('internal'))
      topic.remove(handle)
      topic.dispose()
      expect(live(timers)).toHaveLength(0)
    })
  })
})
