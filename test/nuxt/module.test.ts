// The Nuxt module's pure parts: its default URL, its auto-imports, and the two managers its
// plugin installs (the server's inert one, the browser's one that waits for the mount).
import { afterEach, describe, expect, it, vi } from 'vitest'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { autoImportsFor } from '../../src/nuxt/imports'
import { needsProtocolHeader, nitroCrosswsVersion } from '../../src/nuxt/nitro'
import { HydrationManager, InertManager } from '../../src/nuxt/runtime/managers'
import { joinPath, resolveRealtimeUrl } from '../../src/nuxt/runtime/url'
import { tabSharing, type LockManagerLike } from '../../src'
import { webSocketSpy } from '../vue/helpers'

const g = globalThis as { WebSocket?: unknown }
const originalWebSocket = g.WebSocket
afterEach(() => {
  g.WebSocket = originalWebSocket
})

describe('the default URL', () => {
  it('is the origin plus app.baseURL plus path, in ws(s)', () => {
    expect(resolveRealtimeUrl({ url: '', path: '/_realtime' }, 'https://example.com', '/')).toBe('wss://example.com/_realtime')
    expect(resolveRealtimeUrl({ url: '', path: '/_realtime' }, 'http://127.0.0.1:3000', '/sub/')).toBe('ws://127.0.0.1:3000/sub/_realtime')
    expect(resolveRealtimeUrl({ url: '', path: 'rt' }, 'http://h', '/app')).toBe('ws://h/app/rt')
  })

  it('is the configured URL when given: absolute as is (http turned into ws), a path on the origin', () => {
    expect(resolveRealtimeUrl({ url: 'wss://rt.example.com/ws', path: '/_realtime' }, 'https://example.com', '/sub/')).toBe('wss://rt.example.com/ws')
    expect(resolveRealtimeUrl({ url: 'https://rt.example.com/ws', path: '/x' }, 'https://example.com', '/')).toBe('wss://rt.example.com/ws')
    expect(resolveRealtimeUrl({ url: '/ws', path: '/x' }, 'https://example.com', '/sub/')).toBe('wss://example.com/ws')
  })

  it('joins paths with one slash', () => {
    expect(joinPath('/', '/a')).toBe('/a')
    expect(joinPath('/sub/', 'a')).toBe('/sub/a')
    expect(joinPath('/sub', '/a')).toBe('/sub/a')
  })
})

describe('auto-imports', () => {
  const names = (imports: { as: string }[]) => imports.map((i) => i.as)

  it('imports useChannel, useRealtimeStore (with pinia), useRealtimeUrl and useWebSocket as useRealtimeSocket', () => {
    expect(autoImportsFor(true, true)).toEqual([
      { name: 'useChannel', as: 'useChannel', from: 'vue-realtime' },
      { name: 'useRealtimeStore', as: 'useRealtimeStore', from: 'vue-realtime/pinia' },
      { name: 'useRealtimeUrl', as: 'useRealtimeUrl', from: 'vue-realtime' },
      { name: 'useWebSocket', as: 'useRealtimeSocket', from: 'vue-realtime' },
    ])
    // Never under the name VueUse's module auto-imports.
    expect(names(autoImportsFor(true, true))).not.toContain('useWebSocket')
  })

  it("reads the store's type from the entry's file when given one (Nuxt resolves no exports subpath of a package the app does not list)", () => {
    expect(autoImportsFor(true, true, '/app/node_modules/vue-realtime/dist/pinia/index').find((i) => i.as === 'useRealtimeStore')).toEqual({
      name: 'useRealtimeStore',
      as: 'useRealtimeStore',
      from: 'vue-realtime/pinia',
      typeFrom: '/app/node_modules/vue-realtime/dist/pinia/index',
    })
  })

  it('leaves the store out without pinia, and every import can be opted out or renamed', () => {
    expect(names(autoImportsFor(true, false))).toEqual(['useChannel', 'useRealtimeUrl', 'useRealtimeSocket'])
    expect(autoImportsFor(false, true)).toEqual([])
    expect(names(autoImportsFor({ useRealtimeSocket: false }, true))).toEqual(['useChannel', 'useRealtimeStore', 'useRealtimeUrl'])
    expect(names(autoImportsFor({ useRealtimeSocket: 'useLiveSocket', useChannel: false, useRealtimeUrl: false }, true))).toEqual([
      'useRealtimeStore',
      'useLiveSocket',
    ])
  })
})

describe('InertManager (server)', () => {
  it('never constructs a socket, even with a global WebSocket and an explicit open()', () => {
    const Global = webSocketSpy()
    const Given = webSocketSpy()
    g.WebSocket = Global
    const manager = new InertManager()
    const connection = manager.acquire('ws://127.0.0.1:9/ws', { WebSocket: Given })
    expect(connection.status).toBe('idle')
    expect(connection.send('x')).toBe('queued')
    const errors: string[] = []
    connection.on('error', (e) => errors.push(e.message))
    connection.open()
    // Fails at once, with no retry timer left behind.
    expect(connection.status).toBe('failed')
    expect(connection.state.nextRetryAt).toBeNull()
    expect(errors.join()).toMatch(/no WebSocket is opened on the server/)
    expect(Global.calls).toHaveLength(0)
    expect(Given.calls).toHaveLength(0)
    manager.dispose()
  })

  it('shares no tab even when a connection asks to (no lock, no channel: a server has no tabs)', async () => {
    const Given = webSocketSpy()
    const requested: string[] = []
    const locks: LockManagerLike = {
      request: (name) => {
        requested.push(name)
        return new Promise(() => {})
      },
    }
    const channels: string[] = []
    class Channel {
      onmessage = null
      constructor(name: string) {
        channels.push(name)
      }
      postMessage(): void {}
      close(): void {}
    }
    const manager = new InertManager()
    const connection = manager.acquire('ws://127.0.0.1:9/ws', {
      WebSocket: Given,
      shareAcrossTabs: tabSharing({ via: 'locks' }),
      environment: { locks, BroadcastChannel: Channel },
    })
    connection.open()
    await vi.waitFor(() => expect(connection.status).toBe('failed'))
    expect(connection.state.role).toBe('solo')
    expect(requested).toEqual([])
    expect(channels).toEqual([])
    expect(Given.calls).toHaveLength(0)
    manager.dispose()
  })
})

describe('HydrationManager (browser)', () => {
  it('opens nothing until the app is mounted, then what is still held', () => {
    const Spy = webSocketSpy()
    const manager = new HydrationManager({ WebSocket: Spy, reconnect: false })
    const held = manager.acquire('ws://127.0.0.1:9/held')
    const released = manager.acquire('ws://127.0.0.1:9/released')
    const notAsked = manager.acquire('ws://127.0.0.1:9/not-asked', {}, { open: false })
    manager.release(released)
    expect([held.status, released.status, notAsked.status]).toEqual(['idle', 'idle', 'idle'])
    expect(Spy.calls).toHaveLength(0)

    manager.hydrated()
    // The spy throws on construction: one attempt, for the held connection only.
    expect(Spy.calls.map((args) => args[0])).toEqual(['ws://127.0.0.1:9/held'])
    expect(notAsked.status).toBe('idle')
    // After the mount, acquire opens as usual.
    manager.acquire('ws://127.0.0.1:9/later')
    expect(Spy.calls.map((args) => args[0])).toContain('ws://127.0.0.1:9/later')
    manager.dispose()
  })
})

describe('the server route and the crossws Nitro bundles', () => {
  it('finds the crossws of the Nitro this app runs on (the version the lockfile installed)', () => {
    const fixture = fileURLToPath(new URL('./fixture', import.meta.url))
    const installed = (JSON.parse(readFileSync(fileURLToPath(new URL('../../node_modules/crossws/package.json', import.meta.url)), 'utf8')) as { version: string }).version
    expect(nitroCrosswsVersion(fixture)).toBe(installed)
    expect(nitroCrosswsVersion('/')).toBeUndefined()
  })

  it('names the subprotocol in the upgrade response only where crossws does not (0.4 and later)', () => {
    expect(needsProtocolHeader('0.3.5')).toBe(false)
    expect(needsProtocolHeader('0.4.17')).toBe(true)
    expect(needsProtocolHeader('1.0.0')).toBe(true)
    expect(needsProtocolHeader(undefined)).toBe(false)
  })
})
