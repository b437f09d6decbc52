import { describe, expect, it } from 'vitest'
import { jsonSerializer } from '../../src/core/serializer'

describe('jsonSerializer.decode', () => {
  it('parses text that starts a JSON value', () => {
    expect(jsonSerializer.decode('{"a":1}')).toEqual({ a: 1 })
    expect(jsonSerializer.decode('[1,2]')).toEqual([1, 2])
    expect(jsonSerializer.decode('"quoted"')).toBe('quoted')
    expect(jsonSerializer.decode('-1.5')).toBe(-1.5)
    expect(jsonSerializer.decode('0')).toBe(0)
    expect(jsonSerializer.decode('9e2')).toBe(900)
    expect(jsonSerializer.decode('true')).toBe(true)
    expect(jsonSerializer.decode('false')).toBe(false)
    expect(jsonSerializer.decode('null')).toBeNull()
  })

  it('keeps anything else as the string it is, and binary as is', () => {
    for (const text of ['', 'hello', 'pong', 'trueish', 'nullable', ' {"a":1}', '{broken', '12abc', '\u00e9t\u00e9']) {
      expect(jsonSerializer.decode(text)).toBe(text)
    }
    const bytes = new Uint8Array([1, 2]).buffer
    expect(jsonSerializer.decode(bytes)).toBe(bytes)
  })
})
