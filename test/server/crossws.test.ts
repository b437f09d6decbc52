// The crossws transport against crossws 0.3 (Nitro 2: Nuxt 3 and 4) and 0.4, each through its
// Node adapter on a loopback HTTP server: the same protocol as the `ws` server, the subprotocol
// header exactly once, refusals as close codes, and a shutdown that leaves nothing behind.
import { createServer, type Server } from 'node:http'
import { connect as tcpConnect, type AddressInfo } from 'node:net'
import nodeAdapter03 from 'crossws/adapters/node'
import nodeAdapter04 from 'crossws04/adapters/node'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { Connection } from '../../src/core'
import { PROTOCOL, TOKEN_PROTOCOL_PREFIX } from '../../src/core/protocol'
import { ProtocolClient, protocolConnectionOptions } from '../../src/core/protocolClient'
import type { WebSocketConstructor } from '../../src/core/types'
import { createRealtimeHooks, type RealtimeHooks, type RealtimeHooksOptions } from '../../src/server'
import { waitFor } from '../support/wait'
import { connect, open } from './helpers'

type Version = '0.3' | '0.4'
interface Mounted {
  url: string
  realtime: RealtimeHooks<{ name: string }>
  /** The raw response head of an upgrade offering `protocols`. */
  handshake(protocols: string[]): Promise<string>
}

const cleanups: (() => unknown)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** The hooks mounted on crossws `version`'s Node adapter, on 127.0.0.1 port 0. */
async function mount(version: Version, options: RealtimeHooksOptions<{ name: string }> = {}): Promise<Mounted> {
  const realtime = createRealtimeHooks<{ name: string }>({ protocolHeader: version !== '0.3', ...options })
  const adapter = version === '0.3' ? nodeAdapter03({ hooks: realtime.hooks }) : nodeAdapter04({ hooks: realtime.hooks })
  const server: Server = createServer((_req, res) => res.writeHead(426).end())
  server.on('upgrade', (req, socket, head) => void adapter.handleUpgrade(req, socket, head))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  cleanups.push(async () => {
    await realtime.close({ timeout: 500 })
    await new Promise<void>((resolve) => {
      server.close(() => resolve())
      server.closeAllConnections()
    })
  })
  await realtime.ready
  return {
    url: `ws://127.0.0.1:${port}/_realtime`,
    realtime,
    handshake: (protocols) =>
      new Promise((resolve, reject) => {
        const socket = tcpConnect(port, '127.0.0.1', () => {
          socket.write(
            [
              'GET /_realtime HTTP/1.1',
              `Host: 127.0.0.1:${port}`,
              'Upgrade: websocket',
              'Connection: Upgrade',
              'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
              'Sec-WebSocket-Version: 13',
              `Sec-WebSocket-Protocol: ${protocols.join(', ')}`,
              '',
              '',
            ].join('\r\n'),
          )
        })
        let head = ''
        socket.on('data', (chunk) => {
          head += chunk.toString('latin1')
          const end = head.indexOf('\r\n\r\n')
          if (end === -1) return
          socket.destroy()
          resolve(head.slice(0, end))
        })
        socket.on('error', reject)
      }),
  }
}

const protocolHeaders = (head: string): string[] => head.split('\r\n').filter((line) => /^sec-websocket-protocol:/i.test(line))

describe.each<Version>(['0.3', '0.4'])('createRealtimeHooks on crossws %s', (version) => {
  it('answers with the subprotocol header exactly once, and refuses a client that offers ours second', async () => {
    const { handshake } = await mount(version)
    const head = await handshake([PROTOCOL, `${TOKEN_PROTOCOL_PREFIX}abc`])
    expect(head).toMatch(/^HTTP\/1.1 101/)
    expect(protocolHeaders(head)).toEqual([expect.stringMatching(new RegExp(`: ${PROTOCOL.replace('.', '\\.')}$`, 'i'))])
    expect(await handshake(['other', PROTOCOL])).toMatch(/^HTTP\/1.1 400/)
  })

  it('speaks the protocol: welcome, subscribe, publish acked with (epoch, seq), presence', async () => {
    const { url } = await mount(version)
    const a = await connect(url)
    const b = await connect(url)
    const joined = await a.subscribe('room:x')
    expect(joined).toMatchObject({ seq: 0, recovered: true, epoch: expect.any(String) })
    await b.subscribe('room:x')
    const ack = await b.publish('room:x', 'm1', { text: 'hi' })
    expect(ack).toMatchObject({ seq: 1, epoch: joined.epoch })
    const message = await a.waitType('message', (f) => f.id === 'm1')
    expect(message).toMatchObject({ topic: 'room:x', seq: 1, data: { text: 'hi' }, from: b.clientId })
    await a.waitType('presence', (f) => f.event === 'join')
    // A repeated id is acked again and not delivered twice.
    expect(await b.publish('room:x', 'm1', { text: 'hi' })).toMatchObject({ seq: 1 })
    await a.roundTrip()
    expect(a.of('message', 'room:x')).toHaveLength(1)
    await Promise.all([a.close(), b.close()])
  })

  it('serves the vue-realtime client: a publish resolves with its ack, with a token subprotocol on the wire', async () => {
    const { url, realtime } = await mount(version, { authenticate: (_req, token) => (token === 'abc' ? { name: 'ada' } : null) })
    const connection = new Connection(url, { ...protocolConnectionOptions, token: 'abc', WebSocket: WebSocket as unknown as WebSocketConstructor, reconnect: false })
    cleanups.push(() => connection.dispose())
    const client = ProtocolClient.for(connection)
    connection.open()
    await waitFor(() => connection.status === 'open')
    expect(await client.publish('room:y', { n: 1 })).toMatchObject({ type: 'ack', seq: 1 })
    expect([...realtime.clients.values()].map((c) => c.user)).toEqual([{ name: 'ada' }])
  })

  it('refuses with close codes after the handshake: 4401 for authenticate, 4403 for a foreign origin', async () => {
    const { url } = await mount(version, { authenticate: (_req, token) => (token === 'good' ? { name: 'ok' } : null) })
    const refused = await open(url, [PROTOCOL, `${TOKEN_PROTOCOL_PREFIX}bad`])
    expect(await refused.closed).toMatchObject({ code: 4401 })
    const foreign = await open(url, [PROTOCOL, `${TOKEN_PROTOCOL_PREFIX}good`], { origin: 'https://evil.example' })
    expect(await foreign.closed).toMatchObject({ code: 4403 })
    const welcome = await connect(url, [PROTOCOL, `${TOKEN_PROTOCOL_PREFIX}good`])
    expect(welcome.frames[0]).toMatchObject({ type: 'welcome', user: { name: 'ok' } })
    await welcome.close()
  })

  it('closes every client with 1012 on close(), then refuses new ones', async () => {
    const { url, realtime, handshake } = await mount(version)
    const client = await connect(url)
    await client.subscribe('room:z')
    await realtime.close()
    // With the retry hint of a lone client (see test/server/retryHint.test.ts).
    expect(await client.closed).toEqual({ code: 1012, reason: 'server shutting down; retry=0/250' })
    expect(realtime.clients.size).toBe(0)
    expect(await handshake([PROTOCOL])).toMatch(/^HTTP\/1.1 503/)
  })
})

describe('the protocolHeader option', () => {
  it('exists because crossws 0.3 already answers with the first offered subprotocol: naming it too sends the header twice', async () => {
    const { handshake } = await mount('0.3', { protocolHeader: true })
    expect(protocolHeaders(await handshake([PROTOCOL]))).toHaveLength(2)
  })

  it('exists because crossws 0.4 answers with none unless told', async () => {
    const { handshake } = await mount('0.4', { protocolHeader: false })
    expect(protocolHeaders(await handshake([PROTOCOL]))).toHaveLength(0)
  })
})
