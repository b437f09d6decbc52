import type { AddressInfo } from 'node:net'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import WebSocket, { WebSocketServer } from 'ws'
import { createFaultProxy, type FaultProxy } from './proxy'
import { once, waitFor } from './wait'

/** An echo server on 127.0.0.1 that also records what it received, per connection. */
async function startEchoServer() {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  await once(wss, 'listening')
  const received: string[] = []
  const peers = new Set<WebSocket>()
  wss.on('connection', (ws) => {
    peers.add(ws)
    ws.on('close', () => peers.delete(ws))
    ws.on('message', (data) => {
      const text = data.toString()
      received.push(text)
      if (text.startsWith('echo:')) ws.send(text.slice(5))
    })
  })
  const close = async () => {
    for (const ws of peers) ws.terminate()
    await new Promise<void>((resolve) => wss.close(() => resolve()))
  }
  return { wss, port: (wss.address() as AddressInfo).port, received, peers, close }
}

function collect(ws: WebSocket): string[] {
  const out: string[] = []
  ws.on('message', (data) => out.push(data.toString()))
  return out
}

async function connect(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url)
  await once(ws, 'open')
  return ws
}

describe('createFaultProxy', () => {
  let server: Awaited<ReturnType<typeof startEchoServer>>
  let proxy: FaultProxy
  const clients: WebSocket[] = []
  const track = (ws: WebSocket) => (clients.push(ws), ws)

  beforeEach(async () => {
    server = await startEchoServer()
    proxy = await createFaultProxy({ target: { port: server.port } })
  })

  afterEach(async () => {
    for (const ws of clients.splice(0)) ws.terminate()
    await proxy.close()
    await server.close()
  })

  it('forwards both ways and counts connections', async () => {
    expect(proxy.url('/a')).toBe(`ws://127.0.0.1:${proxy.port}/a`)
    const ws = track(await connect(proxy.url()))
    const got = collect(ws)
    ws.send('echo:hello')
    await waitFor(() => got.length === 1)
    expect(got).toEqual(['hello'])
    expect(proxy.connections).toBe(1)
    expect(proxy.totalConnections).toBe(1)
    ws.close()
    await waitFor(() => proxy.connections === 0, { message: 'the closed link to leave the proxy' })
  })

  it('blackhole(): nothing flows, nothing closes; resume() delivers what was held, in order', async () => {
    const ws = track(await connect(proxy.url()))
    const got = collect(ws)
    let closed = false
    ws.on('close', () => (closed = true))
    await waitFor(() => server.peers.size === 1)
    const [peer] = server.peers

    proxy.blackhole()
    ws.send('up-1')
    ws.send('up-2')
    peer.send('down-1')
    // Both frames provably reached the proxy and went no further.
    await waitFor(() => proxy.heldBytes >= 3 * 8, { message: 'the frames to be held by the proxy' })
    expect(server.received).toEqual([])
    expect(got).toEqual([])
    expect(closed).toBe(false)
    expect(ws.readyState).toBe(WebSocket.OPEN)
    expect(proxy.connections).toBe(1)

    // A new connection made during the blackhole passes (only the old link is dead).
    const fresh = track(await connect(proxy.url()))
    const freshGot = collect(fresh)
    fresh.send('echo:alive')
    await waitFor(() => freshGot.length === 1)

    proxy.resume()
    await waitFor(() => server.received.includes('up-2') && got.length === 1)
    expect(server.received.filter((m) => m.startsWith('up-'))).toEqual(['up-1', 'up-2'])
    expect(got).toEqual(['down-1'])
  })

  it('cut(): both ends see the connection end (FIN, no reset)', async () => {
    const ws = track(await connect(proxy.url()))
    const socketErrors: unknown[] = []
    ;(ws as unknown as { _socket: import('node:net').Socket })._socket.on('error', (e) => socketErrors.push(e))
    await waitFor(() => server.peers.size === 1)
    const [peer] = server.peers
    const clientClose = once<[number, Buffer]>(ws, 'close')
    const serverClose = once<[number, Buffer]>(peer, 'close')
    proxy.cut()
    expect((await clientClose)[0]).toBe(1006)
    expect((await serverClose)[0]).toBe(1006)
    expect(socketErrors).toEqual([])
    await waitFor(() => proxy.connections === 0)
  })

  it('reset(): both ends get ECONNRESET', async () => {
    const ws = track(await connect(proxy.url()))
    await waitFor(() => server.peers.size === 1)
    const [peer] = server.peers
    type Raw = { _socket: import('node:net').Socket }
    const clientError = once<NodeJS.ErrnoException>((ws as unknown as Raw)._socket, 'error')
    const serverError = once<NodeJS.ErrnoException>((peer as unknown as Raw)._socket, 'error')
    const clientClose = once<[number, Buffer]>(ws, 'close')
    proxy.reset()
    expect((await clientError).code).toBe('ECONNRESET')
    expect((await serverError).code).toBe('ECONNRESET')
    expect((await clientClose)[0]).toBe(1006)
    await waitFor(() => proxy.connections === 0)
  })

  it('resetAfter(n): a frame cut in the middle, then a reset', async () => {
    const ws = track(await connect(proxy.url()))
    const got = collect(ws)
    await waitFor(() => server.peers.size === 1)
    const [peer] = server.peers
    const clientClose = once<[number, Buffer]>(ws, 'close')
    proxy.resetAfter(10)
    peer.send('x'.repeat(1000))
    expect((await clientClose)[0]).toBe(1006)
    expect(got).toEqual([])
  })

  it('delay(ms): every chunk is held that long, both ways, in order', async () => {
    const ws = track(await connect(proxy.url()))
    const got = collect(ws)
    proxy.delay(100)
    const started = Date.now()
    for (let i = 0; i < 5; i++) ws.send(`echo:${i}`)
    await waitFor(() => got.length === 5, { timeout: 5_000 })
    // Up and down are each delayed: a round trip takes at least two delays.
    expect(Date.now() - started).toBeGreaterThanOrEqual(195)
    expect(got).toEqual(['0', '1', '2', '3', '4'])

    proxy.delay(0)
    const again = Date.now()
    ws.send('echo:fast')
    await waitFor(() => got.length === 6)
    expect(Date.now() - again).toBeLessThan(100)
  })

  it("refuse(true): new connections are accepted and reset, counted; current ones live on", async () => {
    const ws = track(await connect(proxy.url()))
    const got = collect(ws)
    await proxy.refuse(true)
    const refused = track(new WebSocket(proxy.url()))
    refused.on('error', () => {})
    const [code] = await once<[number, Buffer]>(refused, 'close')
    expect(code).toBe(1006)
    expect(proxy.totalConnections).toBe(2)
    expect(proxy.refusedConnections).toBe(1)
    ws.send('echo:still here')
    await waitFor(() => got.length === 1)

    await proxy.refuse(false)
    track(await connect(proxy.url()))
    expect(proxy.totalConnections).toBe(3)
  })

  it("refuse(true, 'close'): connects fail with ECONNREFUSED; refuse(false) listens on the same port again", async () => {
    const port = proxy.port
    await proxy.refuse(true, 'close')
    const refused = track(new WebSocket(proxy.url()))
    const error = await once<NodeJS.ErrnoException>(refused, 'error')
    expect(error.code).toBe('ECONNREFUSED')
    expect(proxy.totalConnections).toBe(0)

    await proxy.refuse(false)
    expect(proxy.port).toBe(port)
    track(await connect(proxy.url()))
    expect(proxy.totalConnections).toBe(1)
  })

  it('a target that is down: the client connection is reset', async () => {
    await server.close()
    const ws = track(new WebSocket(proxy.url()))
    ws.on('error', () => {})
    const [code] = await once<[number, Buffer]>(ws, 'close')
    expect(code).toBe(1006)
    await waitFor(() => proxy.connections === 0)
    server = await startEchoServer() // for afterEach
  })

  it('close(): cuts every connection and stops listening', async () => {
    const ws = track(await connect(proxy.url()))
    const clientClose = once(ws, 'close')
    await proxy.close()
    await clientClose
    expect(proxy.connections).toBe(0)
    const late = track(new WebSocket(proxy.url()))
    expect((await once<NodeJS.ErrnoException>(late, 'error')).code).toBe('ECONNREFUSED')
  })
})

describe('waitFor / once', () => {
  it('waitFor times out with a message naming what it waited for', async () => {
    await expect(waitFor(() => false, { timeout: 50, message: 'the impossible' })).rejects.toThrow(
      /waitFor timed out after 50 ms waiting for: the impossible/,
    )
  })

  it('once times out naming the event', async () => {
    const { EventEmitter } = await import('node:events')
    await expect(once(new EventEmitter(), 'never', 50)).rejects.toThrow(/no 'never' event within 50 ms/)
  })
})
