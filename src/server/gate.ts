import type { IncomingMessage } from 'node:http'
import { CloseCode, TOKEN_PROTOCOL_PREFIX } from '../core/protocol'
import type { RealtimeServerOptions } from './types'

/** The auth token of an upgrade request: `?token=` first, else the `vue-realtime.token.*` subprotocol entry. */
export function readToken(req: IncomingMessage): string | undefined {
  const url = new URL(req.url ?? '/', 'http://localhost')
  const query = url.searchParams.get('token')
  if (query) return query
  const header = req.headers['sec-websocket-protocol']
  if (typeof header !== 'string') return undefined
  for (const entry of header.split(',')) {
    const protocol = entry.trim()
    if (protocol.startsWith(TOKEN_PROTOCOL_PREFIX) && protocol.length > TOKEN_PROTOCOL_PREFIX.length) {
      return protocol.slice(TOKEN_PROTOCOL_PREFIX.length)
    }
  }
  return undefined
}

export function originAllowed(origins: RealtimeServerOptions['origins'], origin: string | undefined): boolean {
  if (!origins) return true
  if (!origin) return false
  return typeof origins === 'function' ? origins(origin) === true : origins.includes(origin)
}

export type Admission<User> =
  | { ok: true; user: User | undefined }
  | { ok: false; code: number; reason: string; error?: unknown }

/**
 * Decides whether an upgrade request may connect. Refusals are delivered as a close code after
 * the handshake (not as an HTTP status), because browsers hide the HTTP status from scripts.
 */
export async function admit<User>(req: IncomingMessage, options: RealtimeServerOptions<User>): Promise<Admission<User>> {
  if (!originAllowed(options.origins, req.headers.origin)) {
    return { ok: false, code: CloseCode.Forbidden, reason: 'origin not allowed' }
  }
  if (!options.authenticate) return { ok: true, user: undefined }
  try {
    const user = await options.authenticate(req, readToken(req))
    if (user === null || user === undefined || user === false) {
      return { ok: false, code: CloseCode.Unauthorized, reason: 'unauthorized: missing or invalid token' }
    }
    return { ok: true, user }
  } catch (error) {
    return { ok: false, code: CloseCode.Unauthorized, reason: 'unauthorized: authentication failed', error }
  }
}
