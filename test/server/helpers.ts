import { WebSocket, type ClientOptions } from 'ws'
import { PROTOCOL } from '../../src/core/protocol'
import { createRealtimeServer, type RealtimeServer, type RealtimeServerOptions } from '../../src/server'

/** A decoded server frame as tests see it. */
export type Frame = Record<string, unknown> & { type: string }

export interface Closed {
  code: number
  reason: string
}

const WAIT = 5000

/** A raw `ws` client that records every frame and lets tests wait on them. */
export class TestClient {
  readonly frames: Frame[] = []
  readonly closed: Promise<Closed>
  private waiters = new Set<() => void>()
  clientId = ''

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      if (isBinary) return
      const text = (data as Buffer).toString('utf8')
      this.frames.push(JSON.parse(text) as Frame)
      for (const wake of [...this.waiters]) wake()
    })
    ws.on('error', () => {})
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })))
  }

  send(frame: object | string | Buffer): void {
    this.ws.send(typeof frame === 'string' || Buffer.isBuffer(frame) ? frame : JSON.stringify(frame))
  }

  /** Resolves with the first recorded frame matching `match` (already received or not). */
  waitFor(match: (frame: Frame) => boolean, what = 'a matching frame', from = 0, timeout = WAIT): Promise<Frame> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.frames.slice(from).find(match)
        if (!found) return false
        this.waiters.delete(check)
        clearTimeout(timer)
        resolve(found)
        return true
      }
      const timer = setTimeout(() => {
        this.waiters.delete(check)
        reject(new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.frames).slice(0, 800)}`))
      }, timeout)
      if (!check()) this.waiters.add(check)
    })
  }

  /** Waits for a frame of `type`; `from` skips frames recorded before that index. */
  waitType(type: string, extra: (frame: Frame) => boolean = () => true, from = 0): Promise<Frame> {
    return this.waitFor((f) => f.type === type && extra(f), `a "${type}" frame`, from)
  }

  of(type: string, topic?: string): Frame[] {
    return this.frames.filter((f) => f.type === type && (topic === undefined || f.topic === topic))
  }

  async subscribe(topic: string, extra: object = {}): Promise<Frame> {
    const from = this.frames.length
    this.send({ type: 'subscribe', topic, ...extra })
    return this.waitType('subscribed', (f) => f.topic === topic, from)
  }

  async publish(topic: string, id: string, data: unknown): Promise<Frame> {
    const from = this.frames.length
    this.send({ type: 'publish', topic, id, data })
    return this.waitType('ack', (f) => f.id === id, from)
  }

  /** A ping round trip: every frame sent before it has been handled once this resolves. */
  async roundTrip(): Promise<void> {
    const ts = Math.random()
    this.send({ type: 'ping', ts })
    await this.waitType('pong', (f) => f.ts === ts)
  }

  close(): Promise<Closed> {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close()
    return this.closed
  }
}

/** Opens a raw socket; resolves once it is open (or closed, for refusal tests). */
export function open(url: string, protocols: string[] = [PROTOCOL], options: ClientOptions = {}): Promise<TestClient> {
  const ws = new WebSocket(url, protocols, options)
  const client = new TestClient(ws)
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('connect timed out')), WAIT)
    ws.once('open', () => {
      clearTimeout(timer)
      resolve(client)
    })
    ws.once('close', () => {
      clearTimeout(timer)
      resolve(client)
    })
    ws.once('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
    ws.once('unexpected-response', (_req, res) => {
      clearTimeout(timer)
      reject(new Error(`HTTP ${res.statusCode}`))
    })
  })
}

/** Opens a socket and waits for `welcome`. */
export async function connect(url: string, protocols?: string[], options?: ClientOptions): Promise<TestClient> {
  const client = await open(url, protocols, options)
  const welcome = await client.waitType('welcome')
  client.clientId = String(welcome.clientId)
  return client
}

/** A server on 127.0.0.1, port 0, memory store unless told otherwise. */
export async function startServer<User = unknown>(options: RealtimeServerOptions<User> = {}): Promise<RealtimeServer<User>> {
  const server = createRealtimeServer<User>({ host: '127.0.0.1', port: 0, ...options })
  await server.ready
  return server
}

/** Resolves when `check` holds, polling on a short interval, bounded. */
export async function until(check: () => boolean, what: string, timeout = WAIT): Promise<void> {
  const start = Date.now()
  while (!check()) {
    if (Date.now() - start > timeout) throw new Error(`timed out waiting until ${what}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}
