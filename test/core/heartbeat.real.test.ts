/**
 * Heartbeat and close reporting against real sockets on 127.0.0.1 (issue 14 points 13, 14,
 * 15, 18; issue 8 points 8, 9, 11). Every wait is on an event, bounded.
 */
import { Worker } from 'node:worker_threads'
import { afterEach, describe, expect, it, vi } from 'vitest'
import WebSocket, { WebSocketServer } from 'ws'
import { Connection } from '../../src/core/connection'
import type { ConnectionOptions, WebSocketConstructor, WebSocketData, WebSocketLike } from '../../src/core/types'
import { createRealtimeServer } from '../../src/server'
import { TestServer } from '../support/pingServer'
import { once, waitFor } from '../support/wait'

const NodeWebSocket = WebSocket as unknown as WebSocketConstructor
const cleanups: (() => unknown)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  vi.restoreAllMocks()
})

function track(connection: Connection): Connection {
  cleanups.push(() => connection.dispose())
  return connection
}

async function testServer(): Promise<TestServer> {
  const server = await new TestServer().start()
  cleanups.push(() => server.stop())
  return server
}

/** A ws server on 127.0.0.1 whose connections run `onConnection`. */
async function rawServer(onConnection: (socket: WebSocket) => void): Promise<{ url: string; wss: WebSocketServer }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  await once(wss, 'listening')
  wss.on('connection', onConnection)
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate()
        wss.close(() => resolve())
      }),
  )
  return { url: `ws://127.0.0.1:${(wss.address() as { port: number }).port}/`, wss }
}

describe('heartbeat against real sockets', () => {
  it('keeps the link when the event loop was blocked past the deadline with the pong already received (point 13)', async () => {
    // The server runs in a worker thread, so it answers while this thread is blocked. It bumps
    // `written` once the pong is handed to the kernel.
    const written = new Int32Array(new SharedArrayBuffer(4))
    const worker = new Worker(
      `const { workerData, parentPort } = require('node:worker_threads')
       const { WebSocketServer } = require('ws')
       const written = new Int32Array(workerData.buffer)
       const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 }, () => parentPort.postMessage(wss.address().port))
       wss.on('connection', (socket) => socket.on('message', (data) => {
         if (String(data) === 'ping') socket.send('pong', () => { Atomics.add(written, 0, 1); Atomics.notify(written, 0) })
       }))`,
      { eval: true, workerData: { buffer: written.buffer } },
    )
    cleanups.push(() => worker.terminate())
    const port = await once<number>(worker, 'message')
    const timeout = 50
    const connection = track(new Connection(`ws://127.0.0.1:${port}/`, { WebSocket: NodeWebSocket, heartbeat: { interval: 200, timeout } }))
    const closes: string[] = []
    connection.on('close', (info) => closes.push(info.reason))
    let blocked = 0
    connection.on('frameOut', ({ data }) => {
      if (data !== 'ping' || blocked > 0) return
      const pingAt = Date.now()
      const before = Atomics.load(written, 0)
      // After this loop turn's I/O: block until the pong sits in our socket and the deadline is
      // past, so the next turn finds both the expired timer and the readable socket.
      setImmediate(() => {
        Atomics.wait(written, 0, before, 5_000)
        while (Date.now() < pingAt + timeout * 3) {
          // Busy: a long synchronous task (a big render, a JSON parse).
        }
        blocked = Date.now()
      })
    })
    let pongs = 0
    connection.on('frameIn', ({ data }) => data === 'pong' && pongs++)
    connection.open()
    await waitFor(() => pongs >= 2, { timeout: 10_000, message: 'two pongs' })
    expect(blocked).toBeGreaterThan(0)
    expect(closes).toEqual([])
    expect(connection.state.status).toBe('open')
  })

  it('keeps the link while a ping waits behind a large upload on a slow uplink, and the upload arrives once (point 14)', async () => {
    const server = await testServer()
    const connection = track(
      new Connection(server.url, { WebSocket: slowUplink(32 * 1024, 10), heartbeat: { interval: 300, timeout: 500 }, reconnect: { minDelay: 50 } }),
    )
    const closes: string[] = []
    connection.on('close', (info) => closes.push(info.reason))
    connection.open()
    await waitFor(() => connection.state.status === 'open')
    const upload = 'x'.repeat(3 * 1024 * 1024)
    expect(connection.send(upload)).toBe('sent')
    let pongs = 0
    connection.on('frameIn', ({ data }) => data === 'pong' && pongs++)
    await waitFor(() => server.received.length === 1 && pongs >= 1, { timeout: 20_000, message: 'the upload and a pong' })
    expect(server.received[0]).toHaveLength(upload.length)
    expect(closes).toEqual([])
    expect(connection.state.status).toBe('open')
  })

  it('pings every interval when timeout > interval, so the project server keeps the client (point 15)', async () => {
    // The server terminates a client silent for two of its heartbeat intervals (2 s here).
    const server = createRealtimeServer({ port: 0, host: '127.0.0.1', heartbeatInterval: 1_000 })
    await server.ready
    cleanups.push(() => server.close({ timeout: 200 }))
    const connection = track(
      new Connection(server.url, { WebSocket: NodeWebSocket, protocols: 'vue-realtime.v1', heartbeat: { message: '{"type":"ping"}', interval: 250, timeout: 3_000 } }),
    )
    const closes: number[] = []
    connection.on('close', (info) => closes.push(info.code))
    let pings = 0
    connection.on('frameOut', () => pings++)
    connection.open()
    // 3 s of pings: past the server's 2 s limit, short of the client's 3 s timeout.
    await waitFor(() => pings >= 12 || closes.length > 0, { timeout: 20_000, message: '12 pings or a close' })
    expect(closes).toEqual([])
    expect(connection.state.status).toBe('open')
  })

  it('reports a throwing isPong through error instead of crashing the process (point 18)', async () => {
    const server = await testServer()
    const connection = track(
      new Connection(server.url, {
        WebSocket: NodeWebSocket,
        heartbeat: {
          interval: 50,
          isPong: () => {
            throw new Error('isPong exploded')
          },
        },
      }),
    )
    const errors: string[] = []
    connection.on('error', (error) => errors.push(error.message))
    connection.open()
    await waitFor(() => errors.some((m) => m.includes('isPong exploded')), { timeout: 5_000 })
    expect(connection.state.status).toBe('open')
  })

  it("swallows an echo server's echo of our ping and measures latency with it (issue 8 point 8)", async () => {
    const { url } = await rawServer((socket) => socket.on('message', (data, binary) => socket.send(data, { binary })))
    const connection = track(new Connection(url, { WebSocket: NodeWebSocket, heartbeat: { interval: 50, timeout: 1_000 } }))
    const messages: unknown[] = []
    connection.on('message', (m) => messages.push(m))
    connection.open()
    await waitFor(() => connection.state.latency !== null, { timeout: 5_000 })
    connection.send({ hello: 1 })
    await waitFor(() => messages.length === 1)
    expect(messages).toEqual([{ hello: 1 }])
  })

  it('warns once, in development, about a quiet server after the second timeout in a row, and keeps detecting (issue 8 point 9)', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    const { url } = await rawServer(() => {})
    const connection = track(
      new Connection(url, { WebSocket: NodeWebSocket, heartbeat: { interval: 50, timeout: 50 }, reconnect: { minDelay: 10, maxDelay: 20 } }),
    )
    const closes: string[] = []
    connection.on('close', (info) => closes.push(info.reason))
    connection.open()
    await waitFor(() => closes.length >= 3, { timeout: 10_000, message: 'three heartbeat timeouts' })
    expect(new Set(closes)).toEqual(new Set(['heartbeat timeout']))
    expect(warn).toHaveBeenCalledTimes(1)
    expect(warn.mock.calls[0][0]).toContain(url)
    expect(warn.mock.calls[0][0]).toMatch(/heartbeat: false.*isPong/s)
  })
})

describe('lastClose against a real server (issue 8 point 11)', () => {
  it('keeps a planned 1012 while the refused retries show in error', async () => {
    const server = await testServer()
    const connection = track(new Connection(server.url, { WebSocket: NodeWebSocket, heartbeat: false, reconnect: { minDelay: 20, maxDelay: 50 } }))
    connection.open()
    await waitFor(() => connection.state.status === 'open')
    await server.stop(1012)
    await waitFor(() => connection.state.attempt >= 3, { timeout: 10_000, message: 'three refused retries' })
    expect(connection.state.lastClose).toMatchObject({ code: 1012, name: 'Service Restart' })
    expect(connection.state.error?.message).toMatch(/Could not connect|ECONNREFUSED/)
    await server.start()
    await waitFor(() => connection.state.status === 'open', { timeout: 10_000 })
    expect(connection.state).toMatchObject({ lastClose: { code: 1012 }, error: null })
  })
})

/**
 * A browser's view of a slow uplink, at the WebSocket API: `send` queues the frame and it
 * reaches the real socket only once `bytesPerTick` per `tickMs` have carried it;
 * `bufferedAmount` counts what has not left yet, as a browser's does.
 */
function slowUplink(bytesPerTick: number, tickMs: number): WebSocketConstructor {
  return class SlowUplink implements WebSocketLike {
    readonly #ws: WebSocket
    #queue: { data: WebSocketData; size: number }[] = []
    #carried = 0
    #timer: ReturnType<typeof setInterval> | undefined
    onopen: WebSocketLike['onopen'] = null
    onmessage: WebSocketLike['onmessage'] = null
    onclose: WebSocketLike['onclose'] = null
    onerror: WebSocketLike['onerror'] = null

    constructor(url: string, protocols?: string | string[]) {
      this.#ws = new WebSocket(url, protocols)
      this.#ws.onopen = (event) => this.onopen?.(event)
      this.#ws.onmessage = (event) => this.onmessage?.({ data: event.data })
      this.#ws.onerror = (event) => this.onerror?.(event)
      this.#ws.onclose = (event) => {
        clearInterval(this.#timer)
        this.onclose?.({ code: event.code, reason: event.reason, wasClean: event.wasClean })
      }
    }
    get readyState(): number {
      return this.#ws.readyState
    }
    get protocol(): string {
      return this.#ws.protocol
    }
    get binaryType(): string {
      return this.#ws.binaryType
    }
    set binaryType(value: string) {
      this.#ws.binaryType = value as WebSocket['binaryType']
    }
    get bufferedAmount(): number {
      return this.#queue.reduce((sum, frame) => sum + frame.size, 0) - this.#carried + this.#ws.bufferedAmount
    }
    send(data: WebSocketData): void {
      this.#queue.push({ data, size: typeof data === 'string' ? Buffer.byteLength(data) : (data as ArrayBuffer).byteLength })
      this.#timer ??= setInterval(() => this.#carry(), tickMs)
    }
    #carry(): void {
      let budget = bytesPerTick
      while (this.#queue.length > 0 && budget > 0) {
        const head = this.#queue[0]
        const step = Math.min(budget, head.size - this.#carried)
        this.#carried += step
        budget -= step
        if (this.#carried < head.size) break
        this.#queue.shift()
        this.#carried = 0
        if (this.#ws.readyState === WebSocket.OPEN) this.#ws.send(head.data as Buffer)
      }
      if (this.#queue.length === 0) {
        clearInterval(this.#timer)
        this.#timer = undefined
      }
    }
    close(code?: number, reason?: string): void {
      clearInterval(this.#timer)
      this.#ws.close(code, reason)
    }
    terminate(): void {
      clearInterval(this.#timer)
      this.#ws.terminate()
    }
  }
}
