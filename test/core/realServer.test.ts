import { spawn } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { build } from 'esbuild'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { Connection } from '../../src/core/connection'
import { ConnectionManager } from '../../src/core/manager'
import type { ConnectionOptions } from '../../src/core/types'
import { TestServer } from '../support/pingServer'
import { waitFor } from '../support/wait'

const servers: TestServer[] = []
const cleanups: (() => void)[] = []
async function server(): Promise<TestServer> {
  const s = await new TestServer().start()
  servers.push(s)
  return s
}
function track<T extends { close(): void }>(thing: T): T {
  cleanups.push(() => thing.close())
  return thing
}

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) cleanup()
  for (const s of servers.splice(0)) await s.stop().catch(() => {})
})

const fast: ConnectionOptions = {
  WebSocket: WebSocket as unknown as ConnectionOptions['WebSocket'],
  heartbeat: { interval: 200, timeout: 300 },
  reconnect: { minDelay: 100, maxDelay: 500 },
}

describe('against a real ws server on 127.0.0.1', () => {
  it('shares one TCP connection between 50 consumers of one URL', async () => {
    const s = await server()
    const manager = new ConnectionManager(fast)
    cleanups.push(() => manager.closeAll())
    const consumers = Array.from({ length: 50 }, () => manager.acquire(s.url))
    expect(new Set(consumers).size).toBe(1)
    await waitFor(() => consumers[0].state.status === 'open')
    expect(s.tcpConnections).toBe(1)
    expect(manager.connections.size).toBe(1)
  })

  it('reconnects after the server closes with 1012 and refuses connections for 1 s', async () => {
    const s = await server()
    const connection = track(new Connection(s.url, fast))
    connection.open()
    await waitFor(() => connection.state.status === 'open')
    const closed = new Promise((resolve) => connection.on('close', resolve))
    await s.stop(1012)
    await closed
    expect(connection.state.lastClose).toMatchObject({ code: 1012, name: 'Service Restart', retryable: true })
    // The outage itself is the scenario: the server is down for one second.
    await new Promise((resolve) => setTimeout(resolve, 1_000))
    await s.start()
    await waitFor(() => connection.state.status === 'open', { timeout: 10_000 })
    expect(connection.state.attempt).toBeGreaterThanOrEqual(1)
  })

  it('detects a server that stops reading and answering without closing, and replaces the socket', async () => {
    const s = await server()
    const connection = track(new Connection(s.url, fast))
    const closes: string[] = []
    connection.on('close', (c) => closes.push(c.reason))
    connection.open()
    await waitFor(() => connection.state.status === 'open' && s.sockets.size === 1)
    // Half-open: the server neither reads nor writes, and never closes.
    const [victim] = s.sockets
    ;(victim as unknown as { _socket: { pause(): void } })._socket.pause()
    await waitFor(() => closes.includes('heartbeat timeout'), { timeout: 10_000 })
    await waitFor(() => connection.state.status === 'open', { timeout: 10_000 })
    expect(s.tcpConnections).toBe(2)
  })

  it("takes ws's frames from its own 'message' event: text as strings, binary as ArrayBuffers, the listener gone once the socket ends", async () => {
    const s = await server()
    const sockets: WebSocket[] = []
    class Recording extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols)
        sockets.push(this)
      }
    }
    const connection = track(
      new Connection<unknown>(s.url, { ...fast, heartbeat: false, WebSocket: Recording as unknown as ConnectionOptions['WebSocket'] }),
    )
    const received: unknown[] = []
    connection.on('message', (message) => received.push(message))
    connection.open()
    await waitFor(() => connection.state.status === 'open' && s.sockets.size === 1)
    const [client] = sockets
    // No DOM-style handler: the frames come through ws's EventEmitter, one listener.
    expect(client.onmessage).toBeNull()
    expect(client.listenerCount('message')).toBe(1)
    const [peer] = s.sockets
    peer.send(JSON.stringify({ n: 1, text: 'héllo ✓' }))
    peer.send(Buffer.from([1, 2, 3]), { binary: true })
    peer.send('{"n":2}')
    await waitFor(() => received.length === 3)
    expect(received[0]).toEqual({ n: 1, text: 'héllo ✓' })
    // Binary frames pass the serializer untouched, shaped by binaryType ('arraybuffer').
    expect(received[1]).toBeInstanceOf(ArrayBuffer)
    expect([...new Uint8Array(received[1] as ArrayBuffer)]).toEqual([1, 2, 3])
    expect(received[2]).toEqual({ n: 2 })
    connection.close()
    await waitFor(() => connection.state.status === 'closed')
    expect(client.listenerCount('message')).toBe(0)
  })

  it('delivers 100 sends made during an outage once each, in order', async () => {
    const s = await server()
    const connection = track(new Connection(s.url, fast))
    connection.open()
    await waitFor(() => connection.state.status === 'open')
    await s.stop(1012)
    await waitFor(() => connection.state.status === 'reconnecting')
    const results = Array.from({ length: 100 }, (_, i) => connection.send({ n: i }))
    expect(new Set(results)).toEqual(new Set(['queued']))
    await s.start()
    await waitFor(() => s.received.length >= 100, { timeout: 10_000 })
    expect(s.received.map((m) => JSON.parse(m).n)).toEqual(Array.from({ length: 100 }, (_, i) => i))
    expect(connection.state.queued).toBe(0)
  })

  it('never reconnects after the user closes', async () => {
    const s = await server()
    const connection = new Connection(s.url, fast)
    connection.open()
    await waitFor(() => connection.state.status === 'open' && s.sockets.size === 1)
    connection.close()
    await waitFor(() => connection.state.status === 'closed' && s.sockets.size === 0)
    // Nothing is scheduled that could reopen it; a later server-side event changes nothing.
    expect(connection.state.nextRetryAt).toBeNull()
    const probe = new Connection(s.url, fast)
    probe.open()
    await waitFor(() => probe.state.status === 'open')
    probe.close()
    expect(s.tcpConnections).toBe(2)
    expect(connection.state.status).toBe('closed')
  })

  it('ends in failed on 1008 (policy violation) without retrying', async () => {
    const s = await server()
    s.wss.on('connection', (socket) => socket.close(1008, 'rate limit exceeded'))
    const connection = track(new Connection(s.url, fast))
    connection.open()
    await waitFor(() => connection.state.status === 'failed')
    expect(connection.state.lastClose).toMatchObject({ code: 1008, reason: 'rate limit exceeded', retryable: false })
    expect(s.tcpConnections).toBe(1)
  })

  it('leaves no live handle behind: a Node process exits on its own after close()', async () => {
    const s = await server()
    const dir = mkdtempSync(join(tmpdir(), 'vue-realtime-'))
    const bundle = join(dir, 'core.mjs')
    await build({
      entryPoints: [join(__dirname, '../../src/core/index.ts')],
      bundle: true,
      format: 'esm',
      platform: 'node',
      outfile: bundle,
      logLevel: 'silent',
    })
    const script = join(dir, 'client.mjs')
    writeFileSync(
      script,
      `import WebSocket from ${JSON.stringify(require.resolve('ws').replace(/index\.js$/, 'wrapper.mjs'))}
import { Connection } from ${JSON.stringify(bundle)}
const c = new Connection(process.argv[2], { WebSocket, heartbeat: { interval: 100, timeout: 1000 } })
c.on('open', () => { c.send({ hello: 1 }); setTimeout(() => c.close(), 250) })
c.on('state', (s) => { if (s.status === 'closed') console.log('closed') })
c.open()
`,
    )
    const child = spawn(process.execPath, [script, s.url], { stdio: ['ignore', 'pipe', 'inherit'] })
    let output = ''
    child.stdout.on('data', (chunk) => (output += chunk))
    const code = await new Promise<number | null>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill()
        reject(new Error('the client process was still alive 10 s after close(): a handle leaked'))
      }, 10_000)
      child.on('exit', (exitCode) => {
        clearTimeout(timer)
        resolve(exitCode)
      })
    })
    expect(code).toBe(0)
    expect(output).toContain('closed')
    expect(s.received).toContain('{"hello":1}')
  })
})
