/** What a follower tab owns of its sends, across terms: order kept, nothing posted twice to a term. */
import { describe, expect, it } from 'vitest'
import { resolveQueue } from '../../src/core/outbox'
import { OwnedSends } from '../../src/core/tabs/ownedSends'

const ids = (due: { due: [number, unknown, unknown][] }) => due.due.map(([id]) => id)

describe('OwnedSends', () => {
  it('a send that awaits an ended term holds back the later ones, which then go in order, each posted once per term', () => {
    const owned = new OwnedSends(resolveQueue(undefined), () => 0)
    owned.add('m1', undefined)
    expect(ids(owned.due(1))).toEqual([1])
    // A newer term spoke before term 1's last word: m1 awaits it, and m2 waits behind m1.
    expect(owned.await(1)).toBe(true)
    owned.add('m2', undefined)
    expect(ids(owned.due(2))).toEqual([])
    owned.release(1)
    expect(ids(owned.due(2))).toEqual([1, 2])
    // Already posted to term 2: not again.
    expect(ids(owned.due(2))).toEqual([])
    owned.add('m3', undefined)
    expect(ids(owned.due(2))).toEqual([3])
  })

  it("an ended term's bye settles what awaited it: handled and not held back is done, the rest goes to the next term", () => {
    const owned = new OwnedSends(resolveQueue(undefined), () => 0)
    for (const m of ['m1', 'm2', 'm3']) owned.add(m, undefined)
    owned.due(1)
    owned.await(1)
    owned.heard(1, { handled: 2, unsent: [2] })
    expect(ids(owned.due(2))).toEqual([2, 3])
    expect(owned.awaits()).toBe(false)
  })

  it('drop-oldest evicts the oldest send no leader has (dropped); only when a leader has them all, the oldest of those (uncertain)', () => {
    const owned = new OwnedSends(resolveQueue({ max: 2 }), () => 0)
    owned.add('posted', undefined)
    expect(ids(owned.due(1))).toEqual([1])
    owned.add('waiting', undefined)
    // 'posted' may be written by the leader of term 1: 'waiting' goes instead.
    expect(owned.add('new', undefined)).toEqual({ id: 3, dropped: 1, uncertain: 0 })
    expect(ids(owned.due(1))).toEqual([3])
    // Both posted now: the oldest is forgotten, and it may or may not go out.
    expect(owned.add('newer', undefined)).toEqual({ id: 4, dropped: 0, uncertain: 1 })
    owned.confirm(3, 'sent')
    expect(ids(owned.due(1))).toEqual([4])
  })

  it("a send whose ttl ran out in the leader's full outbox is the one out of it, not the oldest: the oldest comes back unsent at a hand-over", () => {
    // Found by the tabs model (locks, queue.max 2): m2's ttl ran out in the leader's outbox, m3
    // took its room, and the tab forgot m1 instead (the oldest), which the leader held and handed
    // back unsent: it was never sent again, nor counted.
    let now = 0
    const owned = new OwnedSends(resolveQueue({ max: 2 }), () => now)
    owned.add('m1', undefined)
    owned.add('m2', 2_000)
    expect(ids(owned.due(1))).toEqual([1, 2])
    owned.confirm(1, 'queued')
    owned.confirm(2, 'queued')
    now = 5_000
    owned.add('m3', undefined)
    expect(ids(owned.due(1))).toEqual([3])
    owned.confirm(3, 'queued')
    owned.handedBack([1, 3], 3)
    expect(ids(owned.due(2))).toEqual([1, 3])
  })

  it("forgets the send the leader names (gone), not its own guess: the leader's ttl may run out later than the tab's", () => {
    // Found by the tabs model (locks, queue.max 2): the leader took m2 and m3 late (its page was
    // paused), so by the tab's clock m2 had run out when m3 took its room, while the leader,
    // where nothing had run out, dropped m1. The tab forgot m2, which the leader then handed back
    // unsent: never written, never counted.
    let now = 0
    const owned = new OwnedSends(resolveQueue({ max: 2 }), () => now)
    owned.add('m1', undefined)
    expect(ids(owned.due(1))).toEqual([1])
    owned.confirm(1, 'queued')
    owned.add('m2', 2_000)
    owned.add('m3', 2_000)
    expect(ids(owned.due(1))).toEqual([2, 3])
    now = 2_500
    owned.confirm(2, 'queued')
    owned.gone([1])
    owned.confirm(3, 'queued')
    owned.handedBack([2, 3], 3)
    // Both back; both ran out here: counted (the caller drops them as expired), none lost.
    expect(owned.drain()).toEqual({ due: [], expired: 2 })
  })
})
