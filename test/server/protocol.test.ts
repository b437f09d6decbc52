import { describe, expect, it } from 'vitest'
import { isValidTopic, parseClientFrame, parseServerFrame } from '../../src/core/protocol'

describe('protocol validators', () => {
  it('validates topic names', () => {
    for (const ok of ['a', 'room:1', 'doc/7/cursors', 'a-b_c.d', 'x'.repeat(128)]) expect(isValidTopic(ok)).toBe(true)
    for (const bad of ['', 'x'.repeat(129), 'a b', '<b>', 'é', 1, null]) expect(isValidTopic(bad)).toBe(false)
  })

  it('keeps only known fields of client frames', () => {
    expect(parseClientFrame('{"type":"subscribe","topic":"t","since":3,"extra":1}')).toEqual({ ok: true, frame: { type: 'subscribe', topic: 't', since: 3 } })
    expect(parseClientFrame('{"type":"publish","topic":"t","id":"a","data":null}')).toEqual({ ok: true, frame: { type: 'publish', topic: 't', id: 'a', data: null } })
    expect(parseClientFrame('{"type":"ping"}')).toEqual({ ok: true, frame: { type: 'ping' } })
  })

  it('names the problem', () => {
    const cases: Array<[string, string]> = [
      ['nope', 'bad_json'],
      ['null', 'invalid_frame'],
      ['{"type":1}', 'unknown_type'],
      ['{"type":"subscribe","topic":"t","since":1.5}', 'invalid_frame'],
      ['{"type":"publish","topic":"t","id":"","data":1}', 'invalid_frame'],
      ['{"type":"request","id":"r","method":"a b"}', 'invalid_frame'],
      ['{"type":"ping","ts":"x"}', 'invalid_frame'],
    ]
    for (const [text, code] of cases) {
      const result = parseClientFrame(text)
      expect(result.ok ? null : result.error.code, text).toBe(code)
    }
  })

  it('validates server frames for clients', () => {
    expect(parseServerFrame('{"type":"message","topic":"t","seq":1,"id":"a","data":1,"from":"s","ts":1}').ok).toBe(true)
    expect(parseServerFrame('{"type":"subscribed","topic":"t","seq":0,"recovered":true,"presence":[]}').ok).toBe(true)
    expect(parseServerFrame('{"type":"message","topic":"t","seq":-1,"id":"a","from":"s","ts":1}').ok).toBe(false)
    expect(parseServerFrame('{"type":"presence","topic":"t","event":"dance","member":{}}').ok).toBe(false)
    expect(parseServerFrame('{"type":"response","id":1,"error":{"code":"x"}}').ok).toBe(false)
  })
})
