/**
 * Fault injection: a loopback TCP proxy between the client and a real server blackholes,
 * cuts, resets and delays traffic. Every loop is bounded in count and time.
 */
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { Connection } from '../../src/core/connection'
import { resolveEnvironment } from '../../src/core/environment'
import { mergeOptions } from '../../src/core/manager'
import { ProtocolClient, protocolConnectionOptions } from '../../src/core/protocolClient'
import type { ConnectionOptions, RealtimeEnvironment, WebSocketConstructor, WebSocketLike } from '../../src/core/types'
import { createRealtimeServer } from '../../src/server'
import { TestServer } from '../support/pingServer'
import { createFaultProxy, type FaultProxy } from '../support/proxy'
import { waitFor } from '../support/wait'

const cleanups: (() => unknown)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function proxied(port: number): Promise<FaultProxy> {
  const proxy = await createFaultProxy({ target: { host: '127.0.0.1', port } })
  cleanups.push(() => proxy.close())
  return proxy
}

/** Counts sockets that are alive (constructed and not yet closed or terminated) at once. */
function countingWebSocket() {
  const stats = { live: 0, maxLive: 0, constructed: 0 }
  class Counted extends (WebSocket as unknown as new (url: string, protocols?: string | string[]) => WebSocket) {
    private counted = true
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols)
      stats.constructed++
      stats.live++
      stats.maxLive = Math.max(stats.maxLive, stats.live)
      this.once('close', () => this.uncount())
    }
    private uncount(): void {
      if (!this.counted) return
      this.counted = false
      stats.live--
    }
    override terminate(): void {
      this.uncount()
      super.terminate()
    }
  }
  return { WebSocket: Counted as unknown as WebSocketConstructor, stats }
}

/** An environment whose timers and listeners are counted, to prove nothing leaks. */
function countingEnvironment(): { env: RealtimeEnvironment; live: () => { timers: number; listeners: number } } {
  const base = resolveEnvironment()
  const timers = new Set<unknown>()
  let listeners = 0
  const env: RealtimeEnvironment = {
    ...base,
    setTimeout(fn, ms) {
      const handle: unknown = base.setTimeout(() => {
        timers.delete(handle)
        fn()
      }, ms)
      timers.add(handle)
      return handle
    },
    clearTimeout(handle) {
      timers.delete(handle)
      base.clearTimeout(handle)
    },
    subscribe() {
      listeners++
      return () => listeners--
    },
  }
  return { env, live: () => ({ timers: timers.size, listeners }) }
}

const fast = {
  heartbeat: { interval: 200, timeout: 300 },
  reconnect: { minDelay: 50, maxDelay: 200 },
} satisfies ConnectionOptions

function track(connection: Connection): Connection {
  cleanups.push(() => connection.dispose())
  return connection
}

describe('fault injection through a loopback TCP proxy', () => {
  it('detects a blackholed (half-open) link and replaces it', async () => {
    const server = await new TestServer().start()
    cleanups.push(() => server.stop())
    const proxy = await proxied(server.port)
    const c = track(new Connection(proxy.url('/'), { ...fast, WebSocket: WebSocket as unknown as WebSocketConstructor }))
    const reasons: string[] = []
    c.on('close', (info) => reasons.push(info.reason))
    c.open()
    await waitFor(() => c.state.status === 'open')
    proxy.blackhole()
    await waitFor(() => reasons.includes('heartbeat timeout'), { timeout: 10_000 })
    await waitFor(() => c.state.status === 'open', { timeout: 10_000 })
    expect(proxy.totalConnections).toBe(2)
    expect(c.send('after')).toBe('sent')
    await waitFor(() => server.received.includes('after'))
  })

  it('survives a cut during the opening handshake', async () => {
    const server = await new TestServer().start()
    cleanups.push(() => server.stop())
    const proxy = await proxied(server.port)
    let first = true
    proxy.on('connection', () => {
      if (!first) return
      first = false
      proxy.cut() // before the HTTP upgrade response can come back
    })
    const c = track(new Connection(proxy.url('/'), { ...fast, WebSocket: WebSocket as unknown as WebSocketConstructor }))
    const errors: string[] = []
    c.on('error', (e) => errors.push(e.message))
    c.open()
    await waitFor(() => c.state.status === 'open', { timeout: 10_000 })
    // The cut attempt never opened: it shows in error, not in lastClose.
    expect(errors.some((m) => m.includes('Could not connect') && m.includes('1006'))).toBe(true)
    expect(c.state.lastClose).toBeNull()
    expect(proxy.totalConnections).toBe(2)
  })

  it('close() while connecting ends in closed with no socket and nothing scheduled', async () => {
    const server = await new TestServer().start()
    cleanups.push(() => server.stop())
    const proxy = await proxied(server.port)
    proxy.delay(200) // keep the handshake in flight
    const { env, live } = countingEnvironment()
    const { WebSocket: Counted, stats } = countingWebSocket()
    const c = new Connection(proxy.url('/'), { ...fast, WebSocket: Counted, environment: env })
    c.open()
    expect(c.state.status).toBe('connecting')
    c.close()
    expect(c.state.status).toBe('closed')
    expect(live()).toEqual({ timers: 0, listeners: 0 })
    await waitFor(() => stats.live === 0)
    expect(stats.constructed).toBe(1)
    expect(c.state.status).toBe('closed')
  })

  it('drops a frame cut off by a server crash mid-frame, and reconnects', async () => {
    const server = await new TestServer().start()
    cleanups.push(() => server.stop())
    const proxy = await proxied(server.port)
    const c = track(new Connection(proxy.url('/'), { ...fast, WebSocket: WebSocket as unknown as WebSocketConstructor }))
    const messages: unknown[] = []
    c.on('message', (m) => messages.push(m))
    c.open()
    await waitFor(() => c.state.status === 'open' && server.sockets.size === 1)
    proxy.resetAfter(1_000)
    for (const socket of server.sockets) socket.send(JSON.stringify({ big: 'x'.repeat(64 * 1024) }))
    await waitFor(() => c.state.lastClose?.code === 1006, { timeout: 10_000 })
    await waitFor(() => c.state.status === 'open', { timeout: 10_000 })
    expect(messages).toEqual([]) // the torn frame never surfaces as a message
    for (const socket of server.sockets) socket.send('{"whole":true}')
    await waitFor(() => messages.length === 1)
    expect(messages).toEqual([{ whole: true }])
  })

  it('flapping link (10 cuts in 5 s): one socket at a time, one open at the end, every publish once, nothing leaked', async () => {
    const store = createRealtimeServer({ port: 0 })
    await store.ready
    cleanups.push(() => store.close({ timeout: 200 }))
    const proxy = await proxied(store.port)
    const { env, live } = countingEnvironment()
    const { WebSocket: Counted, stats } = countingWebSocket()
    const c = new Connection(
      proxy.url('/'),
      mergeOptions(protocolConnectionOptions, { ...fast, WebSocket: Counted, environment: env }),
    )
    const client = ProtocolClient.for(c)
    const seen: unknown[] = []
    const stop = client.subscribe('room:flap', { message: (m) => seen.push(m.data) })
    c.open()
    await waitFor(() => c.state.status === 'open')

    const publishes: Promise<unknown>[] = []
    let sent = 0
    const publisher = setInterval(() => {
      if (sent < 100) publishes.push(client.publish('room:flap', sent++, { timeout: 30_000 }))
    }, 40)
    let cuts = 0
    await new Promise<void>((resolve) => {
      const cutter = setInterval(() => {
        proxy.cut()
        if (++cuts === 10) {
          clearInterval(cutter)
          resolve()
        }
      }, 500)
    })
    await waitFor(() => sent === 100, { timeout: 10_000 })
    clearInterval(publisher)
    await Promise.all(publishes)
    await waitFor(() => seen.length >= 100, { timeout: 10_000 })

    expect(seen).toEqual(Array.from({ length: 100 }, (_, i) => i)) // once each, in order
    expect(stats.maxLive).toBe(1) // never two sockets at once
    await waitFor(() => c.state.status === 'open')
    expect(stats.live).toBe(1)
    await waitFor(() => store.clients.size === 1) // the server has let go of every cut socket

    stop()
    c.close()
    await waitFor(() => c.state.status === 'closed' && stats.live === 0)
    expect(live()).toEqual({ timers: 0, listeners: 0 })
  })
})
