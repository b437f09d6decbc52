import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import { createServer, type IncomingMessage, type Server as HttpServer } from 'node:http'
import type { Duplex } from 'node:stream'
import { WebSocketServer, type RawData, type WebSocket } from 'ws'
import { CloseCode, PROTOCOL, isFrameId, isValidTopic, TOPIC_PATTERN } from '../core/protocol'
import { ClientConnection } from './client'
import { DEFAULTS, type ResolvedLimits, type ServerContext } from './context'
import { Emitter } from './emitter'
import { encodeData, nestingDepth } from './encode'
import type { EnginePublish, RealtimeEngine } from './engine'
import { memoryEngine } from './engine-memory'
import { SqliteEngine } from './engine-sqlite'
import { FrameHandler, published } from './frames'
import { bootId } from './sqlite-file'
import { admit, originPolicy } from './gate'
import { Presence } from './presence'
import { WriteBatch } from './outbound'
import { TopicRegistry } from './topics'
import type { CloseOptions, RealtimeServer, RealtimeServerEvents, RealtimeServerOptions, ServerPublishResult } from './types'
import { PendingUpgrades, refuse, resolveUpgradeLimits } from './upgrade'

const PREFIX = '[vue-realtime/server]'

function positive(name: string, value: number | undefined, fallback: number): number {
  const result = value ?? fallback
  if (typeof result !== 'number' || !(result > 0)) {
    throw new TypeError(`${PREFIX} option "${name}" must be a positive number, got ${String(value)}.`)
  }
  return result
}

function resolveLimits<User>(options: RealtimeServerOptions<User>): ResolvedLimits {
  const rateLimit = options.rateLimit === undefined ? DEFAULTS.rateLimit : options.rateLimit
  if (rateLimit) {
    positive('rateLimit.messages', rateLimit.messages, 0)
    positive('rateLimit.perMs', rateLimit.perMs, 0)
  }
  const newTopicLimit = options.newTopicLimit === undefined ? DEFAULTS.newTopicLimit : options.newTopicLimit
  if (newTopicLimit) {
    positive('newTopicLimit.topics', newTopicLimit.topics, 0)
    positive('newTopicLimit.perMs', newTopicLimit.perMs, 0)
  }
  const maxBufferedAmount = positive('maxBufferedAmount', options.maxBufferedAmount, DEFAULTS.maxBufferedAmount)
  const replayMaxBytes = positive('replayMaxBytes', options.replayMaxBytes, Math.floor(maxBufferedAmount / 2))
  if (replayMaxBytes >= maxBufferedAmount) {
    throw new TypeError(`${PREFIX} option "replayMaxBytes" (${replayMaxBytes}) must be below "maxBufferedAmount" (${maxBufferedAmount}), or every large replay closes its client as a slow consumer.`)
  }
  return {
    heartbeatInterval: positive('heartbeatInterval', options.heartbeatInterval, DEFAULTS.heartbeatInterval),
    maxPayload: positive('maxPayload', options.maxPayload, DEFAULTS.maxPayload),
    rateLimit: rateLimit ? { ...rateLimit } : false,
    maxTopicsPerConnection: positive('maxTopicsPerConnection', options.maxTopicsPerConnection, DEFAULTS.maxTopicsPerConnection),
    newTopicLimit: newTopicLimit ? { ...newTopicLimit } : false,
    replayLimit: positive('replayLimit', options.replayLimit, DEFAULTS.replayLimit),
    replayMaxBytes,
    maxDepth: positive('maxDepth', options.maxDepth, DEFAULTS.maxDepth),
    maxBufferedAmount,
    presence: options.presence ?? true,
  }
}

/** The database `dataDir` keeps: `sqliteEngine({ path: join(dataDir, DATA_FILE) })`. */
export const DATA_FILE = 'realtime.db'

/** The engine the options ask for; `owned` when the server made it (and so closes it). */
function engineOf<User>(options: RealtimeServerOptions<User>): { engine: RealtimeEngine; owned: boolean } {
  if (options.engine) return { engine: options.engine, owned: false }
  const settings = { historyLimit: options.historyLimit, dedupeWindow: options.dedupeWindow, now: options.now }
  const { dataDir } = options
  // A data folder of the JSON-lines store (before SQLite) is imported once, into the new database.
  const engine = dataDir ? new SqliteEngine({ path: join(dataDir, DATA_FILE), ...settings }, { bootId, importFrom: dataDir }) : memoryEngine(settings)
  return { engine, owned: true }
}

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
  const limits = resolveLimits(options)
  const upgradeLimits = resolveUpgradeLimits(options)
  const originAllowed = originPolicy(options)
  const { engine, owned } = engineOf(options)
  const events = new Emitter<RealtimeServerEvents<User>>()
  const ctx: ServerContext<User> = {
    limits,
    engine,
    options,
    events,
    now: options.now ?? Date.now,
    report(error, what) {
      const cause = error instanceof Error ? error : new Error(String(error))
      const wrapped = new Error(`${PREFIX} ${what}: ${cause.message}`, { cause })
      if (events.has('error')) events.emit('error', wrapped)
      else console.error(wrapped)
    },
  }
  const clients = new Map<string, ClientConnection<User>>()
  const topics = new TopicRegistry<User>(ctx)
  const presence = new Presence<User>(ctx, clients)
  const frames = new FrameHandler<User>(ctx, topics, presence)
  /** Coalesces each socket's frames of one tick into one write (a fan-out sends many per tick). */
  const batch = new WriteBatch()

  /** Every WebSocket this server made (accepted or being refused), so `close()` can end them all. */
  const sockets = new Set<WebSocket>()
  /** Sockets not yet WebSockets: each with a deadline, all together under a cap. */
  const pending = new PendingUpgrades(upgradeLimits, ctx.now, (error) => ctx.report(error, 'accepting a connection'))
  let onSocketsGone: (() => void) | null = null
  let state: 'starting' | 'open' | 'closing' | 'closed' = 'starting'

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: limits.maxPayload,
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
      if (sockets.size === 0) onSocketsGone?.()
    })
  }

  function accept(ws: WebSocket, user: User | undefined, raw: Duplex): void {
    const client = new ClientConnection<User>(randomUUID(), user, ws, ctx, { raw, batch })
    clients.set(client.id, client)
    ws.on('message', (data, isBinary) => {
      try {
        frames.receive(client, toBuffer(data), isBinary)
      } catch (error) {
        ctx.report(error, 'handling an inbound frame')
      }
    })
    // ws answers protocol pings itself; they still prove the client is alive.
    ws.on('ping', () => presence.touch(client))
    // Oversized (1009) and invalid UTF-8 (1007) frames: ws closes the socket itself; the fault is the client's.
    ws.on('error', ignore)
    ws.on('close', (code, reason) => {
      client.closing = true
      clients.delete(client.id)
      topics.removeClient(client)
      events.emit('disconnect', { client, code, reason: reason.toString('utf8') })
    })
    client.send({ type: 'welcome', protocol: PROTOCOL, clientId: client.id, heartbeat: limits.heartbeatInterval, ...(user !== undefined ? { user } : {}) })
    events.emit('connection', client)
  }

  async function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, signal: AbortSignal): Promise<void> {
    socket.on('error', ignore)
    await ready
    const admission = signal.aborted ? null : await admit(req, options, { signal, originAllowed, authenticateTimeout: upgradeLimits.authenticateTimeout })
    if (!admission || signal.aborted || state !== 'open' || socket.destroyed) {
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
    if (state === 'closing' || state === 'closed') return refuse(socket, 503, 'Service Unavailable')
    const signal = pending.track(socket)
    if (!signal) return
    upgrade(req, socket, head, signal).catch((error: unknown) => {
      if (state === 'open') ctx.report(error, 'upgrading a connection')
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
    if (state === 'closing' || state === 'closed') socket.destroy()
    else pending.track(socket)
  })

  const ready: Promise<void> = (async () => {
    await engine.ready()
    if (ownServer) {
      await new Promise<void>((resolve, reject) => {
        ownServer.once('error', reject)
        ownServer.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
          ownServer.off('error', reject)
          resolve()
        })
      })
    }
    if (state !== 'starting') return
    presence.start()
    state = 'open'
  })()
  // Handled here so an unawaited failure is not an unhandled rejection; awaiting `ready` still throws.
  ready.catch(ignore)

  function address(): { host: string; port: number } {
    const addr = httpServer?.address()
    if (!addr || typeof addr === 'string') return { host: options.host ?? '127.0.0.1', port: 0 }
    const host = ownServer ? (options.host ?? '127.0.0.1') : addr.address === '::' || addr.address === '0.0.0.0' ? 'localhost' : addr.address
    return { host: host.includes(':') ? `[${host}]` : host, port: addr.port }
  }

  async function publish(topic: string, data: unknown, publishOptions: { ephemeral?: boolean; id?: string | number } = {}): Promise<ServerPublishResult> {
    if (!isValidTopic(topic)) throw new TypeError(`${PREFIX} publish: topic "${String(topic).slice(0, 140)}" must match ${String(TOPIC_PATTERN)}.`)
    const json = encodeData(data)
    if (json === undefined) throw new TypeError(`${PREFIX} publish: data must be JSON-serialisable (no undefined, BigInt, cycles or nesting deeper than ${limits.maxDepth}).`)
    if (nestingDepth(json) > limits.maxDepth) throw new TypeError(`${PREFIX} publish: data nests deeper than ${limits.maxDepth} levels (option maxDepth); send flatter data.`)
    const id = publishOptions.id ?? `server:${randomUUID()}`
    if (!isFrameId(id)) throw new TypeError(`${PREFIX} publish: id must be a string of 1-128 characters or an integer.`)
    await ready
    if (state !== 'open') throw new Error(`${PREFIX} publish after close(); create a new server.`)
    const message: EnginePublish = { topic, id, data: json, from: 'server', ts: ctx.now() }
    // Results carry a JSON copy of the data: what clients receive, safe from later mutation by the caller.
    if (publishOptions.ephemeral) {
      const { duplicate } = await engine.broadcast(message)
      const result = published(message, JSON.parse(json), true)
      if (!duplicate) events.emit('publish', result)
      return { ...result, duplicate }
    }
    const { message: stored, duplicate } = await engine.publish(message)
    // A duplicate resolves with the ORIGINAL message, not the data given now (bug 27).
    const result = published(stored, JSON.parse(stored.data), false)
    if (!duplicate) events.emit('publish', result)
    return { ...result, duplicate }
  }

  /** Resolves when every tracked socket has emitted `close`, or after `timeout` ms. */
  async function socketsGone(timeout: number): Promise<void> {
    if (sockets.size === 0) return
    let timer: ReturnType<typeof setTimeout> | undefined
    await new Promise<void>((resolve) => {
      onSocketsGone = resolve
      timer = setTimeout(resolve, timeout)
    })
    clearTimeout(timer)
    onSocketsGone = null
  }

  let closing: Promise<void> | null = null
  function close(closeOptions: CloseOptions = {}): Promise<void> {
    closing ??= (async () => {
      const { code = CloseCode.ServiceRestart, reason = 'server shutting down', timeout = DEFAULTS.closeTimeout } = closeOptions
      state = 'closing'
      await ready.catch(ignore)
      presence.stop()
      httpServer?.off('upgrade', onUpgrade)
      pending.destroyAll()
      for (const client of clients.values()) client.close(code, reason)
      await socketsGone(timeout)
      // Whoever did not finish the closing handshake in time is cut off. `ws` emits their
      // `close` only after its receiver has drained, a few ticks later: wait for those too, so
      // their leaves reach the engine before it closes.
      for (const ws of sockets) ws.terminate()
      await socketsGone(timeout)
      // An `authorize` hook or an engine that hangs must not hold the shutdown forever.
      await frames.drain(timeout)
      await topics.close()
      if (owned) {
        try {
          await engine.close()
        } catch (error) {
          ctx.report(error, `closing the ${engine.name} engine`)
        }
      }
      wss.close()
      if (ownServer?.listening) {
        await new Promise<void>((resolve) => {
          ownServer.close(() => resolve())
          ownServer.closeAllConnections()
        })
      }
      state = 'closed'
    })()
    return closing
  }

  return {
    ready,
    listen: () => ready,
    get port() {
      return address().port
    },
    get url() {
      const { host, port } = address()
      return `ws://${host}:${port}${options.path ?? '/'}`
    },
    clients,
    engine,
    topics: () => topics.names(),
    presence: (topic) => presence.members(topic),
    publish,
    handleUpgrade,
    on: (event, listener) => events.on(event, listener),
    close,
  }
}
