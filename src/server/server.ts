/**
 * The `ws` transport of the protocol server: the default, and the standalone server. It owns the
 * HTTP side (its own server, an attached one, or upgrades handed over by hand), the handshake
 * limits and the `ws` sockets; everything the protocol does is the core's (core.ts).
 */
import { createServer, type IncomingMessage, type Server as HttpServer } from 'node:http'
import type { Duplex } from 'node:stream'
import { WebSocket, WebSocketServer, type RawData } from 'ws'
import { PROTOCOL } from '../core/protocol'
import { Emptied } from './emptied'
import { closeOnce, createProtocolCore } from './core'
import { nodeUpgradeView } from './gate'
import { WriteBatch } from './outbound'
import type { TransportSocket } from './transport'
import type { RealtimeServer, RealtimeServerOptions } from './types'
import { PendingUpgrades, refuse, resolveUpgradeLimits } from './upgrade'

/** Options of every frame `ws` sends for us: text, never compressed (`perMessageDeflate` is off). One object for all. */
const TEXT = { binary: false } as const

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data
  if (Array.isArray(data)) return Buffer.concat(data)
  return Buffer.from(data)
}

function pathname(req: IncomingMessage): string {
  try {
    return new URL(req.url ?? '/', 'http://localhost').pathname
  } catch {
    return ''
  }
}

/** Swallows socket errors until the owner attaches its own handler. */
const ignore = (): void => {}

/**
 * Creates the vue-realtime protocol server (docs/protocol.md) over `ws`. It listens on its own
 * HTTP server (`port`, `host`), attaches to yours (`server`), or takes upgrades by hand
 * (`noServer`). Await `ready` before connecting; `close()` ends it without leaving handles.
 */
export function createRealtimeServer<User = unknown>(options: RealtimeServerOptions<User> = {}): RealtimeServer<User> {
  const upgradeLimits = resolveUpgradeLimits(options)
  const core = createProtocolCore<User, IncomingMessage>(options)
  const { ctx } = core
  /** Coalesces each socket's frames of one tick into one write (a fan-out sends many per tick). */
  const batch = new WriteBatch()

  /** Every WebSocket this server made (accepted or being refused), so `close()` can end them all. */
  const sockets = new Set<WebSocket>()
  /** Sockets not yet WebSockets: each with a deadline, all together under a cap. */
  const pending = new PendingUpgrades(upgradeLimits, ctx.now, (error) => ctx.report(error, 'accepting a connection'))
  /** Every tracked socket has emitted `close`. */
  const socketsGone = new Emptied(() => sockets.size)
  let stopped = false

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: ctx.limits.maxPayload,
    clientTracking: false,
    perMessageDeflate: false,
    // Offered our protocol: select it. Offered none: accept plain (tools, tests). Offered only others: none selected, the client fails the handshake.
    handleProtocols: (protocols) => (protocols.has(PROTOCOL) ? PROTOCOL : false),
  })

  const ownServer: HttpServer | null =
    options.server || options.noServer
      ? null
      : createServer((_req, res) => {
          res.writeHead(426, { 'content-type': 'text/plain', connection: 'close' })
          res.end('Upgrade Required: connect with a WebSocket client.\n')
        })
  const httpServer = options.server ?? ownServer

  function track(ws: WebSocket): void {
    sockets.add(ws)
    ws.on('close', () => {
      sockets.delete(ws)
      socketsGone.check()
    })
  }

  function transport(ws: WebSocket): TransportSocket {
    return {
      isOpen: () => ws.readyState === WebSocket.OPEN,
      get bufferedAmount() {
        return ws.bufferedAmount
      },
      send: (text) => ws.send(text, TEXT),
      close: (code, reason) => ws.close(code, reason),
      terminate: () => ws.terminate(),
    }
  }

  function accept(ws: WebSocket, user: User | undefined, raw: Duplex): void {
    const peer = core.accept(transport(ws), user, { raw, batch })
    ws.on('message', (data, isBinary) => peer.receive(toBuffer(data), isBinary))
    // ws answers protocol pings itself; they still prove the client is alive.
    ws.on('ping', () => peer.ping())
    // Oversized (1009) and invalid UTF-8 (1007) frames: ws closes the socket itself; the fault is the client's.
    ws.on('error', ignore)
    ws.on('close', (code, reason) => peer.closed(code, reason.toString('utf8')))
  }

  async function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, signal: AbortSignal): Promise<void> {
    socket.on('error', ignore)
    await core.api.ready
    const admission = signal.aborted ? null : await core.admit(nodeUpgradeView(req), signal, upgradeLimits.authenticateTimeout)
    if (!admission || signal.aborted || !core.accepting || socket.destroyed) {
      pending.settle(socket)
      return refuse(socket, 503, 'Service Unavailable')
    }
    socket.off('error', ignore)
    if (!admission.ok && admission.error) ctx.report(admission.error, 'authenticate')
    wss.handleUpgrade(req, socket, head, (ws) => {
      pending.settle(socket)
      track(ws)
      if (admission.ok) return accept(ws, admission.user, socket)
      ws.on('error', ignore)
      ws.close(admission.code, admission.reason)
    })
  }

  function handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (stopped) return refuse(socket, 503, 'Service Unavailable')
    const signal = pending.track(socket)
    if (!signal) return
    upgrade(req, socket, head, signal).catch((error: unknown) => {
      if (core.accepting) ctx.report(error, 'upgrading a connection')
      pending.settle(socket)
      refuse(socket, 503, 'Service Unavailable')
    })
  }

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    if (options.path && pathname(req) !== options.path) {
      // On a shared server another handler may own this path; on our own, nobody does.
      if (ownServer) refuse(socket, 404, 'Not Found')
      return
    }
    handleUpgrade(req, socket, head)
  }
  httpServer?.on('upgrade', onUpgrade)
  // On our own server the handshake clock starts at the TCP connection: Node's `headersTimeout`
  // ignores a connection that never sends a byte, and is only checked every 30 s.
  ownServer?.on('connection', (socket: Duplex) => {
    if (stopped) socket.destroy()
    else pending.track(socket)
  })

  core.engineReady
    .then(async () => {
      if (!ownServer) return
      await new Promise<void>((resolve, reject) => {
        ownServer.once('error', reject)
        ownServer.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
          ownServer.off('error', reject)
          resolve()
        })
      })
    })
    .then(
      () => core.open(),
      (error: unknown) => core.fail(error),
    )

  function address(): { host: string; port: number } {
    const addr = httpServer?.address()
    if (!addr || typeof addr === 'string') return { host: options.host ?? '127.0.0.1', port: 0 }
    const host = ownServer ? (options.host ?? '127.0.0.1') : addr.address === '::' || addr.address === '0.0.0.0' ? 'localhost' : addr.address
    return { host: host.includes(':') ? `[${host}]` : host, port: addr.port }
  }

  const close = closeOnce(async (resolved) => {
    const { timeout } = resolved
    stopped = true
    core.beginClose()
    await core.api.ready.catch(ignore)
    httpServer?.off('upgrade', onUpgrade)
    pending.destroyAll()
    // Accepted clients get the close code; refused ones are already closing with theirs.
    const clientsGone = core.closeClients(resolved)
    await socketsGone.wait(timeout)
    // Whoever did not finish the closing handshake in time is cut off. `ws` emits their
    // `close` only after its receiver has drained, a few ticks later: wait for those too, so
    // their leaves reach the engine before it closes.
    for (const ws of sockets) ws.terminate()
    await socketsGone.wait(timeout)
    await clientsGone
    await core.finishClose(timeout)
    wss.close()
    if (ownServer?.listening) {
      await new Promise<void>((resolve) => {
        ownServer.close(() => resolve())
        ownServer.closeAllConnections()
      })
    }
  })

  return {
    ...core.api,
    listen: () => core.api.ready,
    get port() {
      return address().port
    },
    get url() {
      const { host, port } = address()
      return `ws://${host}:${port}${options.path ?? '/'}`
    },
    handleUpgrade,
    close,
  }
}
