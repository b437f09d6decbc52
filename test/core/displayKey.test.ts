import { describe, expect, it, vi } from 'vitest'
import { ConnectionManager } from '../../src/core'
import { connectionKey, displayKey, redactProtocols } from '../../src/core/url'

describe('displayKey', () => {
  it.each([
    ['wss://example.com/ws?token=abc&room=1', 'wss://example.com/ws?token=***&room=1'],
    ['wss://example.com/ws?access_token=a%20b&x=1', 'wss://example.com/ws?access_token=***&x=1'],
    ['wss://example.com/?apiKey=k&other=2&flag', 'wss://example.com/?apiKey=***&other=2&flag'],
    ['wss://example.com/ws?room=a+b&Auth=z&jwt=j&sig=s', 'wss://example.com/ws?room=a+b&Auth=***&jwt=***&sig=***'],
    ['wss://user:secret@example.com/ws', 'wss://user:***@example.com/ws'],
    ['wss://example.com/ws', 'wss://example.com/ws'],
    ['ws://127.0.0.1:8787/', 'ws://127.0.0.1:8787/'],
  ])('shows %s as %s', (url, shown) => {
    expect(displayKey(url)).toBe(shown)
  })

  it('masks the token subprotocol and keeps the others', () => {
    expect(redactProtocols(['vue-realtime.v1', 'vue-realtime.token.abc'])).toEqual(['vue-realtime.v1', 'vue-realtime.token.***'])
    expect(displayKey('wss://h/ws?token=t', ['vue-realtime.v1', 'vue-realtime.token.abc'])).toBe(
      'wss://h/ws?token=*** vue-realtime.v1,vue-realtime.token.***',
    )
    expect(redactProtocols(['app.auth.s3cret'], 'app.auth.')).toEqual(['app.auth.***'])
  })

  it('never merges two tokens in the manager key, only in the display key', () => {
    expect(connectionKey('wss://h/ws?token=a')).not.toBe(connectionKey('wss://h/ws?token=b'))
    expect(displayKey('wss://h/ws?token=a')).toBe(displayKey('wss://h/ws?token=b'))
  })
})

describe('the manager', () => {
  it('names a conflicting acquire by its masked key in the dev warning', () => {
    const manager = new ConnectionManager({ heartbeat: false })
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    try {
      const url = 'wss://example.com/ws?token=s3cret'
      manager.acquire(url, { idleTimeout: 10 }, { open: false })
      manager.acquire(url, { idleTimeout: 20 }, { open: false })
      expect(warn).toHaveBeenCalledTimes(1)
      expect(String(warn.mock.calls[0]![0])).toContain('wss://example.com/ws?token=*** is already open with other idleTimeout options')
      expect(String(warn.mock.calls[0]![0])).not.toContain('s3cret')
    } finally {
      warn.mockRestore()
      manager.dispose()
    }
  })
})
