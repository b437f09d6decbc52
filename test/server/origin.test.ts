import { createServer, type IncomingMessage, type Server } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import { createRealtimeServer, type RealtimeServer, type RealtimeServerOptions } from '../../src/server'
import { connect, open, startServer, type TestClient } from './helpers'

interface User {
  name: string
}

let server: RealtimeServer<User> | null = null
let http: Server | null = null
const clients: TestClient[] = []
const keep = <T extends TestClient>(c: T): T => (clients.push(c), c)

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
  await server?.close()
  server = null
  if (http) await new Promise<void>((r) => http!.close(() => r()))
  http = null
})

/** The common setup the attack targets: a session cookie read by `authenticate`. */
function cookieAuth(calls: string[] = []): NonNullable<RealtimeServerOptions<User>['authenticate']> {
  return (req) => {
    calls.push(String(req.headers.origin))
    return /(?:^|;\s*)session=ada-session(?:;|$)/.test(req.headers.cookie ?? '') ? { name: 'ada' } : null
  }
}

const victim = { headers: { cookie: 'session=ada-session' } }

/** The `Origin` a page served by the realtime server's own host would send. */
const sameOrigin = (s: RealtimeServer<User>, scheme = 'http'): string => `${scheme}://127.0.0.1:${s.port}`

describe('origin check with authenticate (the default)', () => {
  it('closes a cross-origin upgrade that carries the victim cookie with 4403, before authenticate runs', async () => {
    const calls: string[] = []
    server = await startServer<User>({ authenticate: cookieAuth(calls) })
    const attacker = await open(server.url, undefined, { ...victim, origin: 'https://evil.example' })
    const closed = await attacker.closed
    expect(closed.code).toBe(4403)
    expect(closed.reason).toMatch(/^origin not allowed: .*"origins" option/)
    expect(attacker.frames).toEqual([])
    expect(calls).toEqual([])
  })

  it('lets same-origin pages (any scheme) and clients without Origin in', async () => {
    server = await startServer<User>({ authenticate: cookieAuth() })
    for (const origin of [sameOrigin(server), sameOrigin(server, 'https'), sameOrigin(server).toUpperCase(), undefined]) {
      const c = keep(await connect(server.url, undefined, { ...victim, origin }))
      expect(c.frames[0]).toMatchObject({ type: 'welcome', user: { name: 'ada' } })
    }
  })

  it('compares hosts and ports exactly: another port or host of the same machine is another origin', async () => {
    server = await startServer<User>({ authenticate: cookieAuth() })
    for (const origin of [`http://127.0.0.1:${server.port + 1}`, `http://localhost:${server.port}`, 'http://127.0.0.1', 'null', 'not a url']) {
      expect((await (await open(server.url, undefined, { ...victim, origin })).closed).code, origin).toBe(4403)
    }
  })

  it('reads the same origin from the Host of an attached server', async () => {
    http = createServer()
    await new Promise<void>((r) => http!.listen(0, '127.0.0.1', r))
    server = await startServer<User>({ server: http, path: '/rt', authenticate: cookieAuth() })
    keep(await connect(server.url, undefined, { ...victim, origin: sameOrigin(server) }))
    expect((await (await open(server.url, undefined, { ...victim, origin: 'https://evil.example' })).closed).code).toBe(4403)
  })
})

describe('origins option', () => {
  it('adds the listed origins (normalised: case, default port, trailing slash) and nothing else', async () => {
    server = await startServer<User>({ authenticate: cookieAuth(), origins: ['https://App.Example:443/', 'http://localhost:5173'] })
    keep(await connect(server.url, undefined, { ...victim, origin: 'https://app.example' }))
    keep(await connect(server.url, undefined, { ...victim, origin: 'http://localhost:5173' }))
    keep(await connect(server.url, undefined, { ...victim, origin: sameOrigin(server) }))
    for (const origin of ['http://app.example', 'https://app.example:8443', 'https://evil.example']) {
      const { code, reason } = await (await open(server.url, undefined, { ...victim, origin })).closed
      expect(code, origin).toBe(4403)
      // The refusal never tells an attacker which origins would pass.
      expect(reason).not.toMatch(/app\.example|localhost/i)
    }
  })

  it("'*' lets every origin in", async () => {
    server = await startServer<User>({ authenticate: cookieAuth(), origins: '*' })
    const c = keep(await connect(server.url, undefined, { ...victim, origin: 'https://evil.example' }))
    expect(c.frames[0]).toMatchObject({ user: { name: 'ada' } })
  })

  it('asks a predicate about every origin other than the own host, with the request', async () => {
    const asked: Array<[string, string | undefined]> = []
    server = await startServer<User>({
      authenticate: cookieAuth(),
      origins: (origin: string, req: IncomingMessage) => {
        asked.push([origin, req.headers.cookie])
        return origin.endsWith('.app.example')
      },
    })
    keep(await connect(server.url, undefined, { ...victim, origin: 'https://eu.app.example' }))
    keep(await connect(server.url, undefined, { ...victim, origin: sameOrigin(server) }))
    keep(await connect(server.url, undefined, victim))
    expect((await (await open(server.url, undefined, { ...victim, origin: 'https://evil.example' })).closed).code).toBe(4403)
    expect(asked).toEqual([
      ['https://eu.app.example', 'session=ada-session'],
      ['https://evil.example', 'session=ada-session'],
    ])
  })

  it('without authenticate lets every origin in, unless origins is given ([] = same origin only)', async () => {
    server = await startServer<User>()
    keep(await connect(server.url, undefined, { origin: 'https://elsewhere.example' }))
    await Promise.all(clients.splice(0).map((c) => c.close()))
    await server.close()
    server = await startServer<User>({ origins: [] })
    expect((await (await open(server.url, undefined, { origin: 'https://elsewhere.example' })).closed).code).toBe(4403)
    keep(await connect(server.url, undefined, { origin: sameOrigin(server) }))
    keep(await connect(server.url))
  })

  it('refuses a list entry that is not an origin, naming it and the expected form', () => {
    for (const entry of ['https://app.example/path', 'app.example', 'null', '*', 'https://user:pw@app.example', '']) {
      expect(() => createRealtimeServer({ noServer: true, origins: [entry] }), entry).toThrow(/is not an origin\. Give scheme:\/\/host\[:port\]/)
    }
    expect(() => createRealtimeServer({ noServer: true, origins: 'all' as '*' })).toThrow(/"origins" must be '\*'/)
  })
})
