import { describe, expect, it } from 'vitest'
import { normalizeUrl } from '../../src/core'
import { redactError, redactSecrets } from '../../src/core/redact'

describe('redactSecrets', () => {
  it('redacts token-like query parameters and keeps the rest of the URL', () => {
    expect(redactSecrets('wss://api.example.com/ws?token=eyJhbGc.x-y_z&room=1')).toBe('wss://api.example.com/ws?token=***&room=1')
    expect(redactSecrets('ws://h/ws?room=1&access_token=abc#x')).toBe('ws://h/ws?room=1&access_token=***#x')
    for (const name of ['id_token', 'auth', 'jwt', 'api_key', 'apikey', 'X-Amz-Signature', 'sig', 'password', 'secret', 'session', 'ticket', 'TOKEN']) {
      expect(redactSecrets(`ws://h/?${name}=s3cr3t&a=b`)).toBe(`ws://h/?${name}=***&a=b`)
    }
  })

  it('leaves parameters that are not credentials alone', () => {
    for (const url of ['ws://h/ws?room=1&since=4', 'ws://h/ws?tokens_left=3', 'ws://h/ws?token=']) expect(redactSecrets(url)).toBe(url)
  })

  it('redacts a password in the userinfo and the token subprotocol', () => {
    expect(redactSecrets('wss://ada:hunter2@h/ws')).toBe('wss://ada:***@h/ws')
    expect(redactSecrets('protocols vue-realtime.v1, vue-realtime.token.abc-DEF_1')).toBe('protocols vue-realtime.v1, vue-realtime.token.***')
  })

  it('works on URLs inside messages and on unparseable URLs', () => {
    expect(redactSecrets('WebSocket error on ws://h/?token=abc: ECONNREFUSED')).toBe('WebSocket error on ws://h/?token=***: ECONNREFUSED')
    expect(redactSecrets('"ftp://h/?token=abc"')).toBe('"ftp://h/?token=***"')
  })

  it('keeps the token out of the invalid URL error', () => {
    expect(() => normalizeUrl('ftp://h/?token=abc123')).toThrow(/token=\*\*\*/)
    expect(() => normalizeUrl('ftp://h/?token=abc123')).not.toThrow(/abc123/)
  })
})

describe('redactError', () => {
  it('replaces an Error naming a credential by a masked copy without its cause, and keeps a clean one', () => {
    const clean = new Error('connect ECONNREFUSED')
    expect(redactError(clean)).toBe(clean)
    const leaky = new TypeError('bad ws://h/?token=abc and s3cr3t', { cause: new Error('s3cr3t') })
    const safe = redactError(leaky, 's3cr3t') as Error
    expect(safe).not.toBe(leaky)
    expect(safe).toMatchObject({ name: 'TypeError', message: 'bad ws://h/?token=*** and ***' })
    expect(safe.cause).toBeUndefined()
    expect(safe.stack).not.toContain('s3cr3t')
  })

  it("reduces a socket error event to its error, since the event's target holds the URL", () => {
    const inner = new Error('ECONNRESET')
    expect(redactError({ type: 'error', target: { url: 'ws://h/?token=abc' }, error: inner })).toBe(inner)
    expect(redactError({ type: 'error', target: { url: 'ws://h/?token=abc' } })).toBeUndefined()
    expect(redactError('token s3cr3t', 's3cr3t')).toBe('token ***')
  })
})
