/**
 * A loopback TCP proxy that injects network faults between a client and a server.
 *
 *   client ──► proxy (127.0.0.1:port) ──► target
 *
 * It works below WebSocket framing, so a fault looks to both ends exactly like the network
 * doing it: `blackhole()` is a half-open link (nothing flows, nothing closes), `cut()` a
 * dropped connection, `reset()` a RST, `delay()` latency, `refuse()` a server that is down.
 * The benchmark bundles this same file (bench/lib/build.mjs), so tests and figures share one
 * implementation.
 */
import { EventEmitter } from 'node:events'
import net from 'node:net'

export interface FaultProxyOptions {
  /** Where to forward to. */
  target: { host?: string; port: number }
  /** Port to listen on (127.0.0.1 only). @default 0 (any free port) */
  port?: number
}

/**
 * How `refuse(true)` refuses:
 * - `'reset'`: accept the TCP connection and reset it at once (the attempt is counted);
 * - `'close'`: stop listening, so connects fail with ECONNREFUSED (nothing is counted).
 */
export type RefuseMode = 'reset' | 'close'

export interface FaultProxy extends EventEmitter {
  /** The port the proxy listens on (stable across `refuse(true, 'close')`). */
  readonly port: number
  /** `ws://127.0.0.1:<port><path>`. */
  url(path?: string): string
  /**
   * Stop forwarding both ways on every current connection without closing anything: a
   * half-open link (a dropped NAT mapping, a dead peer). Connections made afterwards pass
   * normally, so a client that detects the dead link can reconnect. `'down'` holds only what
   * the target sends (requests arrive, answers never do); `'up'` only what the client sends.
   */
  blackhole(direction?: 'both' | 'up' | 'down'): void
  /** Undo `blackhole()`: what was held back flows again, in order (FINs included). */
  resume(): void
  /** Destroy every current connection (both sides, FIN). */
  cut(): void
  /** Reset every current connection (both sides, RST). */
  reset(): void
  /** Forward the next `bytes` bytes server→client on each current connection, then reset it (a crash mid-frame). */
  resetAfter(bytes: number): void
  /** Add `ms` of latency to every chunk, both ways, order kept. `0` turns it off. */
  delay(ms: number): void
  /** Forward connections made from now on to `target` (a load balancer choosing another node); current ones are kept. */
  retarget(target: { host?: string; port: number }): void
  /** Refuse new connections (`true`) or accept them again (`false`); current ones are kept. */
  refuse(on: boolean, mode?: RefuseMode): Promise<void>
  /** Connections through the proxy not yet closed on both sides (a blackholed link counts until resumed or cut). */
  readonly connections: number
  /** TCP connections accepted since the start, refused ones included (connection attempts). */
  readonly totalConnections: number
  /** Of `totalConnections`, how many were refused. */
  readonly refusedConnections: number
  /** Bytes held back by `blackhole()` across current connections, both ways. */
  readonly heldBytes: number
  /** Cut everything and stop listening. */
  close(): Promise<void>
}

/** Events: `connection` ({ id, at, refused }) for every accepted TCP connection; `disconnect` ({ id }). */
export type FaultProxyEvent = 'connection' | 'disconnect'

const END = Symbol('end')
type Chunk = Buffer | typeof END

interface Settings {
  delayMs: number
}

/**
 * Bytes a blackholed direction holds in memory before it stops reading its socket (then the
 * kernel's TCP window fills, as on a real dead link). Held in user space so tests can see
 * (`heldBytes`) that data reached the proxy and went no further.
 */
const HOLD_LIMIT = 1_048_576

/** One direction of a connection: reads `src`, writes `dst`, honouring blackhole, delay and backpressure. */
class Pipe {
  private readonly queue: Array<{ chunk: Chunk; due: number }> = []
  private readonly held: Chunk[] = []
  private timer: NodeJS.Timeout | undefined
  private waitingDrain = false
  private blackholed = false
  heldBytes = 0
  /** Bytes still allowed through before a reset (`resetAfter`), or Infinity. */
  budget = Infinity

  constructor(
    private readonly src: net.Socket,
    private readonly dst: net.Socket,
    private readonly settings: Settings,
    private readonly onBudgetSpent: () => void,
  ) {
    src.on('data', (chunk: Buffer) => this.push(chunk))
    src.on('end', () => this.push(END))
  }

  private push(chunk: Chunk): void {
    if (this.blackholed) {
      this.held.push(chunk)
      if (chunk !== END) this.heldBytes += chunk.length
      if (this.heldBytes > HOLD_LIMIT) this.src.pause()
      return
    }
    const { delayMs } = this.settings
    if (delayMs <= 0 && this.queue.length === 0) return this.write(chunk)
    this.queue.push({ chunk, due: Date.now() + delayMs })
    this.schedule()
  }

  private schedule(): void {
    if (this.timer || this.queue.length === 0) return
    const wait = Math.max(0, this.queue[0].due - Date.now())
    this.timer = setTimeout(() => {
      this.timer = undefined
      const now = Date.now()
      while (this.queue.length > 0 && this.queue[0].due <= now) this.write(this.queue.shift()!.chunk)
      this.schedule()
    }, wait)
  }

  private write(chunk: Chunk): void {
    if (this.dst.destroyed) return
    if (chunk === END) {
      this.dst.end()
      return
    }
    if (chunk.length >= this.budget) {
      this.dst.write(chunk.subarray(0, this.budget), () => this.onBudgetSpent())
      this.budget = 0
      this.src.pause()
      return
    }
    this.budget -= chunk.length
    if (!this.dst.write(chunk) && !this.waitingDrain) {
      this.waitingDrain = true
      this.src.pause()
      this.dst.once('drain', () => {
        this.waitingDrain = false
        if (!this.blackholed && this.budget > 0) this.src.resume()
      })
    }
  }

  /** Stop forwarding; what arrives is held (in order) until `release`. */
  hold(): void {
    this.blackholed = true
  }

  release(): void {
    if (!this.blackholed) return
    this.blackholed = false
    const held = this.held.splice(0)
    this.heldBytes = 0
    for (const chunk of held) this.push(chunk)
    if (!this.waitingDrain && this.budget > 0) this.src.resume()
  }

  dispose(): void {
    clearTimeout(this.timer)
    this.timer = undefined
    this.queue.length = 0
    this.held.length = 0
    this.heldBytes = 0
  }
}

interface Link {
  id: number
  client: net.Socket
  upstream: net.Socket
  up: Pipe
  down: Pipe
}

export async function createFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  let targetHost = options.target.host ?? '127.0.0.1'
  let targetPort = options.target.port
  const settings: Settings = { delayMs: 0 }
  const links = new Set<Link>()
  const emitter = new EventEmitter()
  let refusing: RefuseMode | null = null
  let total = 0
  let refused = 0
  let nextId = 1
  let closed = false
  let server: net.Server
  let port = options.port ?? 0

  const destroyLink = (link: Link, how: 'fin' | 'rst'): void => {
    for (const socket of [link.client, link.upstream]) {
      if (socket.destroyed) continue
      // `resetAndDestroy` on a socket still connecting would wait for the connect: destroy it instead.
      if (how === 'rst' && !socket.connecting) socket.resetAndDestroy()
      else socket.destroy()
    }
  }

  const onConnection = (client: net.Socket): void => {
    total += 1
    const id = nextId++
    if (refusing || closed) {
      refused += 1
      client.on('error', () => {})
      client.resetAndDestroy()
      emitter.emit('connection', { id, at: Date.now(), refused: true })
      return
    }
    client.setNoDelay(true)
    const upstream = net.connect({ host: targetHost, port: targetPort, allowHalfOpen: true })
    upstream.setNoDelay(true)
    const link: Link = {
      id,
      client,
      upstream,
      up: new Pipe(client, upstream, settings, () => {}),
      down: new Pipe(upstream, client, settings, () => destroyLink(link, 'rst')),
    }
    links.add(link)
    let open = 2
    const onClose = (peer: net.Socket) => (hadError: boolean) => {
      // A reset on one side is passed on as a reset; a clean close waits for the FIN to be forwarded.
      if (hadError && !peer.destroyed) {
        if (peer.connecting) peer.destroy()
        else peer.resetAndDestroy()
      }
      open -= 1
      if (open === 0 && links.delete(link)) {
        link.up.dispose()
        link.down.dispose()
        emitter.emit('disconnect', { id })
      }
    }
    client.on('error', () => {})
    upstream.on('error', () => {})
    client.on('close', onClose(upstream))
    upstream.on('close', onClose(client))
    // Half-closed both ways: nothing left to forward.
    const maybeDone = (): void => {
      if (client.readableEnded && upstream.readableEnded && client.writableFinished && upstream.writableFinished) {
        client.destroy()
        upstream.destroy()
      }
    }
    for (const s of [client, upstream]) {
      s.on('end', maybeDone)
      s.on('finish', maybeDone)
    }
    emitter.emit('connection', { id, at: Date.now(), refused: false })
  }

  const listen = (): Promise<void> =>
    new Promise((resolve, reject) => {
      server = net.createServer({ allowHalfOpen: true }, onConnection)
      server.once('error', reject)
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject)
        port = (server.address() as net.AddressInfo).port
        resolve()
      })
    })

  await listen()

  // Getters must stay live: define them on the emitter (Object.assign would copy their values once).
  const methods = {
    url(path = '/') {
      return `ws://127.0.0.1:${port}${path.startsWith('/') ? path : `/${path}`}`
    },
    blackhole(direction: 'both' | 'up' | 'down' = 'both') {
      for (const link of links) {
        if (direction !== 'down') link.up.hold()
        if (direction !== 'up') link.down.hold()
      }
    },
    resume() {
      for (const link of links) {
        link.up.release()
        link.down.release()
      }
    },
    cut() {
      for (const link of links) destroyLink(link, 'fin')
    },
    reset() {
      for (const link of links) destroyLink(link, 'rst')
    },
    resetAfter(bytes: number) {
      for (const link of links) {
        if (bytes <= 0) destroyLink(link, 'rst')
        else link.down.budget = bytes
      }
    },
    delay(ms: number) {
      settings.delayMs = Math.max(0, ms)
    },
    retarget(target: { host?: string; port: number }) {
      targetHost = target.host ?? '127.0.0.1'
      targetPort = target.port
    },
    async refuse(on: boolean, mode: RefuseMode = 'reset') {
      const wasClosed = refusing === 'close'
      refusing = on ? mode : null
      // `close` stops the listening handle at once; live connections stay (its callback would wait for them).
      if (on && mode === 'close' && !wasClosed) server.close()
      if ((!on || mode !== 'close') && wasClosed && !closed) await listen()
    },
    async close() {
      if (closed) return
      closed = true
      for (const link of links) {
        destroyLink(link, 'fin')
        link.up.dispose()
        link.down.dispose()
      }
      if (refusing !== 'close') await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
  const proxy = Object.assign(emitter, methods)
  Object.defineProperties(proxy, {
    port: {
      get() {
        return port
      },
    },
    connections: {
      get() {
        return links.size
      },
    },
    totalConnections: {
      get() {
        return total
      },
    },
    refusedConnections: {
      get() {
        return refused
      },
    },
    heldBytes: {
      get() {
        let bytes = 0
        for (const link of links) bytes += link.up.heldBytes + link.down.heldBytes
        return bytes
      },
    },
  })
  return proxy as FaultProxy
}
