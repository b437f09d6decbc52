/**
 * The crossws transport of the protocol server: hooks for a crossws route (Nitro's
 * `defineWebSocketHandler`, h3), so the server runs inside a Nitro/Nuxt app on its own port.
 *
 * It uses only what crossws 0.3 and 0.4 share: the `upgrade` hook's request (`url`, `headers`,
 * `context`) and its answers (nothing, `{ headers }`, or a `Response` to refuse), `open`,
 * `message`, `close` and `error`, and the peer's `context`, `send`, `close` and `terminate`.
 * Its types are written here, so this file imports neither crossws nor `ws`.
 */
import { CloseCode, PROTOCOL } from '../core/protocol'
import { closeOnce, createProtocolCore } from './core'
import type { Admission, UpgradeView } from './gate'
import type { TransportPeer, TransportSocket } from './transport'
import type { RealtimeHooksOptions, RealtimeServerCore, UpgradeRequest } from './types'
import { UPGRADE_DEFAULTS } from './upgrade'

/** A crossws peer: the members 0.3 and 0.4 share that these hooks use. */
export interface CrosswsPeer {
  /** What the `upgrade` hook put in `request.context`. */
  readonly context: Record<string, unknown>
  readonly websocket?: { readonly bufferedAmount?: number }
  readonly bufferedAmount?: number
  send(data: string): unknown
  close(code?: number, reason?: string): void
  terminate(): void
}

/** A crossws message: the raw data (a string in 0.4, a Buffer in 0.3's Node adapter). */
export interface CrosswsMessage {
  readonly rawData: unknown
}

/** The hooks to give crossws: `defineWebSocketHandler(realtime.hooks)`. */
export interface CrosswsHooks {
  upgrade(request: UpgradeRequest & { readonly context?: Record<string, unknown> }): Promise<Response | { headers?: Record<string, string>; context: Record<string, unknown> }>
  open(peer: CrosswsPeer): void
  message(peer: CrosswsPeer, message: CrosswsMessage): void
  close(peer: CrosswsPeer, details: { code?: number; reason?: string }): void
  error(peer: CrosswsPeer, error: unknown): void
}

/** The protocol server on a crossws route. */
export interface RealtimeHooks<User = unknown> extends RealtimeServerCore<User> {
  /** For `defineWebSocketHandler(realtime.hooks)` (Nitro, h3) or any crossws adapter. */
  readonly hooks: CrosswsHooks
}

/** Where the upgrade hook leaves its verdict for `open` (crossws carries `request.context` to `peer.context`). */
const ADMISSION = 'vue-realtime:admission'

const refusal = (status: number, text: string): Response =>
  new Response(text, { status, headers: { 'content-type': 'text/plain', connection: 'close' } })

/** The subprotocols a request offers, in order. */
function offered(request: UpgradeRequest): string[] {
  const header = request.headers.get('sec-websocket-protocol')
  return header ? header.split(',').map((p) => p.trim()).filter(Boolean) : []
}

function toBuffer(data: unknown): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8')
  if (Buffer.isBuffer(data)) return data
  if (data instanceof ArrayBuffer) return Buffer.from(data)
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  if (Array.isArray(data)) return Buffer.concat(data.map(toBuffer))
  return Buffer.from(String(data), 'utf8')
}

/**
 * Creates the vue-realtime protocol server (docs/protocol.md) as crossws hooks, for a Nitro or
 * h3 route. One instance per process: history lives in its engine (memory by default).
 *
 * @example
 * // server/routes/_realtime.ts (Nitro)
 * import { createRealtimeHooks } from 'vue-realtime/server/crossws'
 * const realtime = createRealtimeHooks({ authenticate: (req, token) => verify(token) })
 * export default defineWebSocketHandler(realtime.hooks)
 */
export function createRealtimeHooks<User = unknown>(options: RealtimeHooksOptions<User> = {}): RealtimeHooks<User> {
  const core = createProtocolCore<User, UpgradeRequest>(options)
  const { ctx } = core
  const protocolHeader = options.protocolHeader ?? true
  const authenticateTimeout = options.authenticateTimeout ?? UPGRADE_DEFAULTS.authenticateTimeout
  /** Aborts every `authenticate` still running when the server closes. */
  const shutdown = new AbortController()
  const peers = new WeakMap<CrosswsPeer, TransportPeer>()
  core.engineReady.then(
    () => core.open(),
    (error: unknown) => core.fail(error),
  )

  function transport(peer: CrosswsPeer, state: { open: boolean }): TransportSocket {
    return {
      isOpen: () => state.open,
      get bufferedAmount() {
        return peer.bufferedAmount ?? peer.websocket?.bufferedAmount ?? 0
      },
      // A Buffer would go out as a binary frame: the protocol's frames are text.
      send: (text) => void peer.send(typeof text === 'string' ? text : text.toString('utf8')),
      close: (code, reason) => {
        state.open = false
        peer.close(code, reason)
      },
      terminate: () => {
        state.open = false
        peer.terminate()
      },
    }
  }

  const hooks: CrosswsHooks = {
    async upgrade(request) {
      const protocols = offered(request)
      // crossws 0.3 answers with the first offered subprotocol itself, whatever we say: it must be ours.
      if (protocols.length > 0 && protocols[0] !== PROTOCOL) {
        return refusal(400, `Offer the subprotocol ${PROTOCOL} first.`)
      }
      await core.api.ready
      if (!core.accepting) return refusal(503, 'Service Unavailable')
      const view: UpgradeView<UpgradeRequest> = { request, url: request.url, header: (name) => request.headers.get(name) ?? undefined }
      const admission = await core.admit(view, shutdown.signal, authenticateTimeout)
      if (!admission.ok && admission.error) ctx.report(admission.error, 'authenticate')
      // The verdict reaches `open` through the context: crossws 0.3 carries the request's own
      // context object to the peer, 0.4 merges the returned one into it. Both are set.
      if (request.context) request.context[ADMISSION] = admission
      const context = { [ADMISSION]: admission }
      // Refusals are closes after the handshake (browsers hide HTTP statuses from scripts), as with `ws`.
      return protocolHeader && protocols.length > 0 ? { headers: { 'sec-websocket-protocol': PROTOCOL }, context } : { context }
    },
    open(peer) {
      const admission = peer.context?.[ADMISSION] as Admission<User> | undefined
      if (!admission) return peer.close(CloseCode.InternalError, 'not admitted')
      if (!admission.ok) return peer.close(admission.code, admission.reason)
      if (!core.accepting) return peer.close(CloseCode.ServiceRestart, 'server shutting down')
      const state = { open: true }
      peers.set(peer, core.accept(transport(peer, state), admission.user))
    },
    message(peer, message) {
      // crossws 0.3 gives every frame as a Buffer, text or binary alike: all are read as text.
      peers.get(peer)?.receive(toBuffer(message.rawData), false)
    },
    close(peer, details) {
      peers.get(peer)?.closed(details.code ?? CloseCode.Normal, details.reason ?? '')
      peers.delete(peer)
    },
    error() {
      // A socket error ends in `close`; the fault is the client's or the network's.
    },
  }

  const close = closeOnce(async (resolved) => {
    core.beginClose()
    shutdown.abort(new Error('server closing'))
    await core.api.ready.catch(() => {})
    await core.closeClients(resolved)
    await core.finishClose(resolved.timeout)
  })

  return { ...core.api, hooks, close }
}
