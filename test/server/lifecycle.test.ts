import { createServer } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { RequestError, type RealtimeServer } from '../../src/server'
import { connect, open, startServer, until, type TestClient } from './helpers'

let server: RealtimeServer<unknown> | null = null
const clients: TestClient[] = []
const keep = <T extends TestClient>(c: T): T => (clients.push(c), c)

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
  await server?.close()
  server = null
})

describe('auth and origin', () => {
  const authenticate = (_req: unknown, token: string | undefined) => (token === 'good' ? { name: 'ada' } : null)

  it('accepts a token in the query and sends the user in welcome', async () => {
    server = await startServer({ authenticate })
    const c = keep(await connect(server.url + '?token=good'))
    expect(c.frames[0]).toMatchObject({ type: 'welcome', user: { name: 'ada' } })
  })

  it('accepts a token in the second subprotocol entry', async () => {
    server = await startServer({ authenticate })
    const c = keep(await connect(server.url, ['vue-realtime.v1', 'vue-realtime.token.good']))
    expect(c.ws.protocol).toBe('vue-realtime.v1')
    expect(c.frames[0]).toMatchObject({ user: { name: 'ada' } })
  })

  it('closes with 4401 without a valid token, and when authenticate throws', async () => {
    server = await startServer({ authenticate })
    for (const url of [server.url, server.url + '?token=bad']) {
      const c = await open(url)
      expect(await c.closed).toEqual({ code: 4401, reason: 'unauthorized: missing or invalid token' })
      expect(c.frames).toHaveLength(0)
    }
    await server.close()
    const errors: Error[] = []
    server = await startServer({
      authenticate: () => {
        throw new Error('db down')
      },
    })
    server.on('error', (e) => errors.push(e))
    expect((await (await open(server.url)).closed).code).toBe(4401)
    expect(errors[0]?.message).toMatch(/db down/)
  })

  it('closes with 4403 for an origin outside the allowlist', async () => {
    server = await startServer({ origins: ['https://app.example'] })
    const bad = await open(server.url, undefined, { origin: 'https://evil.example' })
    expect(await bad.closed).toEqual({ code: 4403, reason: expect.stringMatching(/^origin not allowed/) })
    // Without an Origin (not a browser) the request is let through: see test/server/origin.test.ts.
    keep(await connect(server.url))
    keep(await connect(server.url, undefined, { origin: 'https://app.example' }))
  })
})

describe('requests', () => {
  it('answers by method, unknown methods with not_found, and handler errors with a code', async () => {
    server = await startServer({
      onRequest: {
        add: (data) => {
          const { a, b } = data as { a: number; b: number }
          return a + b
        },
        whoami: (_data, client) => client.id,
        strict: () => {
          throw new RequestError('bad_input', 'Give me a number.')
        },
        broken: () => {
          throw new Error('secret internals')
        },
        slow: async () => 'late',
      },
    })
    const errors: Error[] = []
    server.on('error', (e) => errors.push(e))
    const c = keep(await connect(server.url))
    const ask = (id: string, method: string, data?: unknown) => {
      c.send({ type: 'request', id, method, data })
      return c.waitType('response', (f) => f.id === id)
    }
    expect(await ask('1', 'add', { a: 2, b: 3 })).toEqual({ type: 'response', id: '1', data: 5 })
    expect(await ask('2', 'whoami')).toEqual({ type: 'response', id: '2', data: c.clientId })
    expect(await ask('3', 'nope')).toMatchObject({ error: { code: 'not_found' } })
    expect(await ask('4', 'constructor')).toMatchObject({ error: { code: 'not_found' } })
    expect(await ask('5', 'strict')).toMatchObject({ error: { code: 'bad_input', message: 'Give me a number.' } })
    const broken = await ask('6', 'broken')
    expect(broken).toMatchObject({ error: { code: 'internal' } })
    expect(JSON.stringify(broken)).not.toContain('secret')
    expect(errors).toHaveLength(1)
    expect(await ask('7', 'slow')).toMatchObject({ data: 'late' })
  })

  it('answers not_found without any handler', async () => {
    server = await startServer()
    const c = keep(await connect(server.url))
    c.send({ type: 'request', id: 9, method: 'x' })
    expect(await c.waitType('response')).toMatchObject({ id: 9, error: { code: 'not_found' } })
  })
})

describe('presence and heartbeat', () => {
  it('reports members, join and leave', async () => {
    server = await startServer()
    const a = keep(await connect(server.url))
    const b = keep(await connect(server.url))
    expect((await a.subscribe('room')).presence).toEqual([expect.objectContaining({ clientId: a.clientId, online: true })])
    const subscribed = await b.subscribe('room')
    expect((subscribed.presence as Array<{ clientId: string }>).map((m) => m.clientId).sort()).toEqual([a.clientId, b.clientId].sort())
    expect(await a.waitType('presence', (f) => f.event === 'join')).toMatchObject({ topic: 'room', member: { clientId: b.clientId } })
    expect(await server.presence('room')).toHaveLength(2)
    await b.close()
    expect(await a.waitType('presence', (f) => f.event === 'leave')).toMatchObject({ member: { clientId: b.clientId } })
  })

  it('marks a silent member offline, then terminates it; a frame brings it back online', async () => {
    // The clock is the server's injected one; the sweep timer runs every interval / 4 of real time.
    let now = 1_000_000
    server = await startServer({ heartbeatInterval: 100, now: () => now })
    const watcher = keep(await connect(server.url))
    const silent = keep(await connect(server.url))
    await watcher.subscribe('room')
    await silent.subscribe('room')
    // 1.5 intervals of silence: offline (the watcher pings in between, so only `silent` is late).
    now += 100
    await watcher.roundTrip()
    now += 60
    expect(await watcher.waitType('presence', (f) => f.event === 'offline')).toMatchObject({ member: { clientId: silent.clientId, online: false } })
    let from = watcher.frames.length
    await silent.roundTrip()
    expect(await watcher.waitType('presence', (f) => f.event === 'online', from)).toMatchObject({ member: { clientId: silent.clientId, online: true } })
    // More than 2 intervals: terminated without a close handshake; the others see it leave.
    from = watcher.frames.length
    now += 120
    await watcher.roundTrip()
    now += 100
    expect((await silent.closed).code).toBe(1006)
    await watcher.waitType('presence', (f) => f.event === 'leave', from)
    expect(watcher.ws.readyState).toBe(WebSocket.OPEN)
    expect(server.clients.size).toBe(1)
  })
})

describe('shutdown', () => {
  it('sends 1012 to every client, refuses new ones and leaves no handles', async () => {
    const before = new Set(process.getActiveResourcesInfo())
    const baseline = process.getActiveResourcesInfo().length
    server = await startServer()
    const url = server.url
    const all = await Promise.all([1, 2, 3].map(() => connect(url)))
    await all[0].subscribe('t')
    const closes = all.map((c) => c.closed)
    await server.close()
    // Each with its own moment to come back, spread over the minimum window (3 clients, 250 ms;
    // consecutive clients far apart: see test/server/retryHint.test.ts).
    const reasons = (await Promise.all(closes)).map((closed) => (expect(closed.code).toBe(1012), closed.reason))
    expect(reasons).toEqual(['server shutting down; retry=0/250', 'server shutting down; retry=166/250', 'server shutting down; retry=83/250'])
    await expect(connect(url)).rejects.toThrow()
    await until(() => process.getActiveResourcesInfo().length <= baseline, 'handles are released')
    expect(process.getActiveResourcesInfo().filter((r) => !before.has(r) && r !== 'TTYWrap')).toEqual([])
    server = null
  })

  it('attaches to an existing HTTP server on a path and leaves it running', async () => {
    const http = createServer()
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r))
    server = await startServer({ server: http, path: '/rt' })
    expect(server.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/rt$/)
    const c = await connect(server.url)
    await c.roundTrip()
    await server.close()
    expect((await c.closed).code).toBe(1012)
    expect(http.listening).toBe(true)
    await new Promise<void>((r) => http.close(() => r()))
    server = null
  })

  it('takes upgrades by hand with noServer', async () => {
    const http = createServer()
    server = await startServer({ noServer: true })
    const realtime = server
    http.on('upgrade', (req, socket, head) => realtime.handleUpgrade(req, socket, head))
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r))
    const address = http.address()
    const port = typeof address === 'object' && address ? address.port : 0
    const c = await connect(`ws://127.0.0.1:${port}/anything`)
    expect((await c.publish('t', 'n1', 1)).seq).toBe(1)
    await server.close()
    expect((await c.closed).code).toBe(1012)
    await new Promise<void>((r) => http.close(() => r()))
    server = null
  })

  it('keeps working when authorize throws', async () => {
    server = await startServer({
      authorize: () => {
        throw new Error('boom')
      },
    })
    server.on('error', () => {})
    const c = keep(await connect(server.url))
    c.send({ type: 'subscribe', topic: 't' })
    expect(await c.waitType('error')).toMatchObject({ code: 'internal', topic: 't' })
    await c.roundTrip()
    expect([...(server.clients.values())][0].topics.size).toBe(0)
  })
})
