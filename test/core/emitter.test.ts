import { describe, expect, it } from 'vitest'
import { Emitter } from '../../src/core/emitter'

type Events = { tick: number; other: string }

function emitter() {
  const errors: unknown[] = []
  return { bus: new Emitter<Events>((error) => errors.push(error)), errors }
}

describe('Emitter (EventTarget dispatch rules)', () => {
  it('calls each listener once per event, in the order they were added, and has() tells whether any listens', () => {
    const { bus } = emitter()
    const seen: string[] = []
    expect(bus.has('tick')).toBe(false)
    const a = (n: number) => seen.push(`a${n}`)
    bus.on('tick', a)
    bus.on('tick', a) // added twice: runs once, as with addEventListener
    bus.on('tick', (n) => seen.push(`b${n}`))
    bus.on('other', (s) => seen.push(s))
    expect(bus.has('tick')).toBe(true)
    bus.emit('tick', 1)
    expect(seen).toEqual(['a1', 'b1'])
  })

  it('a remover removes its listener once; removing twice or after clear() is harmless', () => {
    const { bus } = emitter()
    const seen: number[] = []
    const off = bus.on('tick', (n) => seen.push(n))
    off()
    off()
    bus.emit('tick', 1)
    expect(seen).toEqual([])
    expect(bus.has('tick')).toBe(false)
    const off2 = bus.on('tick', (n) => seen.push(n))
    bus.clear()
    off2()
    bus.emit('tick', 2)
    expect(seen).toEqual([])
  })

  it('a listener removed during a dispatch is not called for it; one added meanwhile waits for the next event', () => {
    const { bus } = emitter()
    const seen: string[] = []
    let offB = (): void => {}
    bus.on('tick', (n) => {
      seen.push(`a${n}`)
      offB()
      if (n === 1) bus.on('tick', (m) => seen.push(`c${m}`))
    })
    offB = bus.on('tick', (n) => seen.push(`b${n}`))
    bus.emit('tick', 1)
    expect(seen).toEqual(['a1'])
    bus.emit('tick', 2)
    expect(seen).toEqual(['a1', 'a2', 'c2'])
  })

  it('a throwing listener is reported and does not stop the others', () => {
    const { bus, errors } = emitter()
    const seen: number[] = []
    const boom = new Error('boom')
    bus.on('tick', () => {
      throw boom
    })
    bus.on('tick', (n) => seen.push(n))
    bus.emit('tick', 7)
    expect(seen).toEqual([7])
    expect(errors).toEqual([boom])
  })
})
