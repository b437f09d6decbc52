/** The leader's mux of protocol frames, frame by frame: what each tab's protocol client gets. */
import { describe, expect, it } from 'vitest'
import { ChannelMux, type Delivery } from '../../src/core/tabs/channelMux'

const message = (seq: number, topic = 'room') => JSON.stringify({ type: 'message', topic, seq, id: `m${seq}`, data: seq, from: 'x', ts: 0 })
const subscribed = (seq: number, topic = 'room') => JSON.stringify({ type: 'subscribed', topic, seq, recovered: true, presence: [] })
const subscribe = (extra: object = {}, topic = 'room') => JSON.stringify({ type: 'subscribe', topic, ...extra })

/** Frames each tab gets, as `type:seq`. */
function received(deliveries: Delivery[], tabs: string[]): Record<string, string[]> {
  const out = Object.fromEntries(tabs.map((t) => [t, [] as string[]]))
  for (const d of deliveries) {
    const f = JSON.parse(d.raw)
    for (const tab of d.to ?? tabs) out[tab].push(`${f.type}:${f.seq ?? ''}`)
  }
  return out
}

describe('ChannelMux', () => {
  it('a tab joining a topic the socket already carries gets its own replay and answer, and no live message before them', () => {
    const upstream: string[] = []
    const mux = new ChannelMux((f) => upstream.push(f))
    const out: Delivery[] = []
    expect(mux.outbound('a', subscribe())).toBe(true)
    out.push(...mux.inbound(subscribed(10)), ...mux.inbound(message(11)))
    // b was at 7: its subscribe asks for 8.., live 12 and 13 arrive before the server reads it.
    expect(mux.outbound('b', subscribe({ since: 7 }))).toBe(true)
    out.push(...mux.inbound(message(12)), ...mux.inbound(message(13)))
    for (const seq of [8, 9, 10, 11, 12, 13]) out.push(...mux.inbound(message(seq))) // the replay for b
    out.push(...mux.inbound(subscribed(13)), ...mux.inbound(message(14)))
    const got = received(out, ['a', 'b'])
    expect(got.a).toEqual(['subscribed:10', 'message:11', 'message:12', 'message:13', 'message:8', 'message:9', 'message:10', 'message:11', 'message:12', 'message:13', 'message:14'])
    expect(got.b).toEqual(['message:8', 'message:9', 'message:10', 'message:11', 'message:12', 'message:13', 'subscribed:13', 'message:14'])
    expect(upstream).toEqual([])
  })

  it('a first join with history gets the last n messages up to the head, then its answer', () => {
    const mux = new ChannelMux(() => {})
    mux.outbound('a', subscribe())
    const out = [...mux.inbound(subscribed(20))]
    mux.outbound('b', subscribe({ history: 2 }))
    out.push(...mux.inbound(message(21)), ...mux.inbound(message(20)), ...mux.inbound(message(21)), ...mux.inbound(subscribed(21)))
    expect(received(out, ['a', 'b']).b).toEqual(['message:20', 'message:21', 'subscribed:21'])
  })

  it('answers go to the tabs in the order their subscribes went upstream; topic errors too', () => {
    const mux = new ChannelMux(() => {})
    mux.outbound('a', subscribe({}, 'x'))
    mux.outbound('b', subscribe({}, 'x'))
    const first = mux.inbound(subscribed(0, 'x'))
    const refused = mux.inbound(JSON.stringify({ type: 'error', code: 'forbidden', message: 'no', frame: 'subscribe', topic: 'x' }))
    expect(first.map((d) => d.to)).toEqual([['a']])
    expect(refused.map((d) => d.to)).toEqual([['b']])
  })

  it('counts subscriptions across tabs: unsubscribe goes upstream with the last tab; a tab that leaves releases its topics', () => {
    const upstream: string[] = []
    const mux = new ChannelMux((f) => upstream.push(f))
    for (const tab of ['a', 'b', 'c']) mux.outbound(tab, subscribe())
    expect(mux.outbound('a', JSON.stringify({ type: 'unsubscribe', topic: 'room' }))).toBe(false)
    mux.left('b')
    expect(upstream).toEqual([])
    expect(mux.outbound('c', JSON.stringify({ type: 'unsubscribe', topic: 'room' }))).toBe(true)
    mux.outbound('d', subscribe({}, 'solo'))
    mux.left('d')
    expect(upstream).toEqual([JSON.stringify({ type: 'unsubscribe', topic: 'solo' })])
  })

  it('frames without a topic go to every tab; a topic nobody holds here reaches nobody; the welcome is kept for newcomers', () => {
    const mux = new ChannelMux(() => {})
    const welcome = JSON.stringify({ type: 'welcome', protocol: 'vue-realtime.v1', clientId: 'c1', heartbeat: 25000 })
    expect(mux.inbound(welcome)).toEqual([{ raw: welcome }])
    expect(mux.inbound(JSON.stringify({ type: 'ack', id: 'p1', seq: 3 }))[0].to).toBeUndefined()
    expect(mux.inbound(message(1, 'elsewhere'))).toEqual([])
    expect(mux.joined('z')).toEqual([{ raw: welcome, to: ['z'] }])
  })

  it('a socket that ends takes its unanswered subscribes with it: an answer on the next socket goes to the tab that subscribed there', () => {
    const mux = new ChannelMux(() => {})
    mux.outbound('a', subscribe())
    mux.inbound(subscribed(1))
    // c's subscribe is written; the socket ends before its answer.
    mux.outbound('c', subscribe({ history: 10 }))
    mux.reset()
    // On the next socket a rejoins first, then c.
    mux.outbound('a', subscribe({ since: 1 }))
    mux.outbound('c', subscribe({ history: 10 }))
    const out = [...mux.inbound(subscribed(1)), ...mux.inbound(message(1)), ...mux.inbound(subscribed(1)), ...mux.inbound(message(2))]
    const got = received(out, ['a', 'c'])
    // a is answered and live: c's replay passes it too (its protocol client drops the seq it has).
    expect(got.a).toEqual(['subscribed:1', 'message:1', 'message:2'])
    expect(got.c).toEqual(['message:1', 'subscribed:1', 'message:2'])
  })

  it('a socket that ends: no tab gets a live message of the next socket before that socket answered its own subscribe', () => {
    const mux = new ChannelMux(() => {})
    mux.outbound('a', subscribe())
    mux.inbound(subscribed(3))
    mux.reset()
    // A live message on the new socket before a's subscribe is answered there would skip what a missed.
    const out = [...mux.inbound(message(9))]
    expect(received(out, ['a']).a).toEqual([])
  })

  it('a subscribe that was not written after all waits for no answer: the next answer goes to the next subscribe', () => {
    const mux = new ChannelMux(() => {})
    const frame = subscribe()
    mux.outbound('b', frame)
    mux.unwritten('b', frame)
    mux.outbound('a', subscribe())
    const got = received([...mux.inbound(subscribed(0)), ...mux.inbound(message(1))], ['a', 'b'])
    expect(got.a).toEqual(['subscribed:0', 'message:1'])
    expect(got.b).toEqual([])
  })

  it('an error with a ref goes to the tab that wrote that publish or request; one without ref, or with a ref no tab wrote here, to every tab', () => {
    const mux = new ChannelMux(() => {})
    const refusal = (ref: string | number, frame: string, topic?: string) => JSON.stringify({ type: 'error', code: 'forbidden', message: 'no', frame, ref, ...(topic ? { topic } : {}) })
    mux.outbound('a', JSON.stringify({ type: 'publish', topic: 'room', id: 'p1', data: 1 }))
    mux.outbound('b', JSON.stringify({ type: 'request', id: 7, method: 'm' }))
    expect(mux.inbound(refusal('p1', 'publish', 'room')).map((d) => d.to)).toEqual([['a']])
    expect(mux.inbound(refusal(7, 'request')).map((d) => d.to)).toEqual([['b']])
    // Answered: a second error naming the same id is not known here any more.
    expect(mux.inbound(refusal('p1', 'publish', 'room')).map((d) => d.to)).toEqual([undefined])
    // The string '7' is another id than the number 7.
    mux.outbound('b', JSON.stringify({ type: 'request', id: 7, method: 'm' }))
    expect(mux.inbound(refusal('7', 'request')).map((d) => d.to)).toEqual([undefined])
    expect(mux.inbound(JSON.stringify({ type: 'error', code: 'bad_json', message: 'no' })).map((d) => d.to)).toEqual([undefined])
    expect(mux.inbound(JSON.stringify({ type: 'error', code: 'internal', message: 'no', topic: 'room' })).map((d) => d.to)).toEqual([undefined])
  })

  it('a ref is routed only while its frame waits on this socket: an ack or response, a frame not written, or the socket ending forgets it', () => {
    const mux = new ChannelMux(() => {})
    const refusal = (ref: string) => JSON.stringify({ type: 'error', code: 'forbidden', message: 'no', frame: 'publish', ref, topic: 'room' })
    const publish = (id: string) => JSON.stringify({ type: 'publish', topic: 'room', id, data: 1 })
    // The same id from two tabs: the error goes to both, and each answer settles one of them.
    mux.outbound('a', publish('same'))
    mux.outbound('b', publish('same'))
    expect(mux.inbound(JSON.stringify({ type: 'ack', id: 'same', seq: 1 }))[0].to).toBeUndefined()
    expect(mux.inbound(refusal('same'))[0].to).toEqual(['b'])
    mux.outbound('a', publish('lost'))
    mux.unwritten('a', publish('lost'))
    expect(mux.inbound(refusal('lost'))[0].to).toBeUndefined()
    mux.outbound('a', publish('old'))
    mux.reset()
    expect(mux.inbound(refusal('old'))[0].to).toBeUndefined()
  })

  it.each([
    ['alone (its unsubscribe goes upstream)', false],
    ['beside another tab (its unsubscribe stays here)', true],
  ])('a tab that lets a topic go and joins it again at once, %s: the earlier answer is not taken for the new join', (_how, shared) => {
    const mux = new ChannelMux(() => {})
    const out: Delivery[] = []
    if (shared) {
      mux.outbound('b', subscribe())
      out.push(...mux.inbound(subscribed(3)))
    }
    mux.outbound('a', subscribe())
    expect(mux.outbound('a', JSON.stringify({ type: 'unsubscribe', topic: 'room' }))).toBe(!shared)
    mux.outbound('a', subscribe({ history: 2 }))
    // The server answers the first subscribe, (the unsubscribe,) then replays 2 and 3 for the second and answers it.
    out.push(...mux.inbound(subscribed(3)))
    if (!shared) out.push(...mux.inbound(JSON.stringify({ type: 'unsubscribed', topic: 'room' })))
    out.push(...mux.inbound(message(2)), ...mux.inbound(message(3)), ...mux.inbound(subscribed(3)), ...mux.inbound(message(4)))
    const got = received(out, ['a', 'b'])
    // a's protocol client skips the first answer (it knows it for the subscription it let go).
    expect(got.a).toEqual(['subscribed:3', 'message:2', 'message:3', 'subscribed:3', 'message:4'])
    // b is live: a's replay passes it too (its protocol client drops the seqs it has).
    if (shared) expect(got.b).toEqual(['subscribed:3', 'message:2', 'message:3', 'message:4'])
  })

  it('a tab that leaves with a subscribe in flight: its answer goes to nobody, and the next answer to the next subscribe', () => {
    const mux = new ChannelMux(() => {})
    mux.outbound('a', subscribe())
    mux.outbound('b', subscribe({ history: 1 }))
    mux.left('a')
    const got = received([...mux.inbound(subscribed(5)), ...mux.inbound(message(5)), ...mux.inbound(subscribed(5)), ...mux.inbound(message(6))], ['a', 'b'])
    expect(got.a).toEqual([])
    expect(got.b).toEqual(['message:5', 'subscribed:5', 'message:6'])
  })
})
