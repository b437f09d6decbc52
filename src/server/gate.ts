import type { IncomingMessage } from 'node:http'
import { redactError } from '../core/redact'
import { CloseCode, TOKEN_PROTOCOL_PREFIX } from '../core/protocol'
import type { RealtimeProtocolOptions } from './types'

const PREFIX = '[vue-realtime/server]'

/**
 * An upgrade request as the gate reads it, whatever the transport: its URL and headers, and
 * the original request for the app's hooks (`authenticate`, an `origins` function).
 */
export interface UpgradeView<Req> {
  readonly request: Req
  /** The request target (`/path?query`) or the full URL. */
  readonly url: string
  /** A header's value (lowercase name), or undefined. */
  header(name: string): string | undefined
}

/** The gate's view of Node's upgrade request. */
export function nodeUpgradeView(req: IncomingMessage): UpgradeView<IncomingMessage> {
  return {
    request: req,
    url: req.url ?? '/',
    header: (name) => {
      const value = req.headers[name]
      return Array.isArray(value) ? value.join(', ') : value
    },
  }
}

/** The auth token of an upgrade request: `?token=` first, else the `vue-realtime.token.*` subprotocol entry. */
export function readToken(req: IncomingMessage): string | undefined {
  return tokenOf(nodeUpgradeView(req))
}

/** `readToken` for any transport's request. */
export function tokenOf(view: UpgradeView<unknown>): string | undefined {
  let query: string | null = null
  try {
    query = new URL(view.url, 'http://localhost').searchParams.get('token')
  } catch {
    // An unparsable target carries no token.
  }
  if (query) return query
  const header = view.header('sec-websocket-protocol')
  if (typeof header !== 'string') return undefined
  for (const entry of header.split(',')) {
    const protocol = entry.trim()
    if (protocol.startsWith(TOKEN_PROTOCOL_PREFIX) && protocol.length > TOKEN_PROTOCOL_PREFIX.length) {
      return protocol.slice(TOKEN_PROTOCOL_PREFIX.length)
    }
  }
  return undefined
}

/** `scheme://host[:port]` (lowercased, default port dropped), or undefined when `value` is not a bare origin. */
function normalizeOrigin(value: string): string | undefined {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return undefined
  }
  if (url.username || url.password || url.search || url.hash || (url.pathname !== '/' && url.pathname !== '')) return undefined
  if (!url.host) return undefined
  return url.origin !== 'null' ? url.origin : `${url.protocol}//${url.host}`
}

/**
 * Is the page's origin the server's own host? Scheme-agnostic: a page on `https://app.example`
 * connecting to `wss://app.example` (or `ws://` behind a TLS-terminating proxy) is the same
 * site. The `Host` is read with the origin's scheme so that default ports compare equal.
 */
function sameHost(origin: string, host: string | undefined): boolean {
  if (!host) return false
  try {
    const page = new URL(origin)
    return new URL(`${page.protocol}//${host}`).host === page.host
  } catch {
    return false
  }
}

/** Why a cross-origin upgrade was refused: names the fix, never the allowed origins. */
export const ORIGIN_REFUSED = 'origin not allowed: cross-origin upgrade refused (see the server\'s "origins" option)'

/**
 * Builds the origin check of a server's options (validating the list once, at creation).
 * A request without `Origin` is let through: browsers always send one on a WebSocket upgrade,
 * and the attack this stops (a page on another site riding the visitor's cookies) needs a browser.
 */
export function originPolicy<Req>(options: Pick<RealtimeProtocolOptions<unknown, Req>, 'origins' | 'authenticate'>): (view: UpgradeView<Req>) => boolean {
  const { origins } = options
  if (origins === '*') return () => true
  // Without `authenticate` nor `origins` there is no user a foreign page could act as.
  if (origins === undefined && !options.authenticate) return () => true
  if (origins !== undefined && typeof origins !== 'function' && !Array.isArray(origins)) {
    throw new TypeError(`${PREFIX} option "origins" must be '*', an array of origins or a function, got ${typeof origins}.`)
  }
  const listed = new Set<string>()
  if (Array.isArray(origins)) {
    for (const entry of origins as readonly unknown[]) {
      const origin = typeof entry === 'string' && entry !== 'null' ? normalizeOrigin(entry) : undefined
      if (origin === undefined) {
        throw new TypeError(
          `${PREFIX} option "origins": ${JSON.stringify(entry)} is not an origin. ` +
            'Give scheme://host[:port] with no path, e.g. "https://app.example.com" (use a function for patterns).',
        )
      }
      listed.add(origin)
    }
  }
  const decide = typeof origins === 'function' ? origins : undefined
  return (view) => {
    const origin = view.header('origin')
    if (origin === undefined) return true
    if (sameHost(origin, view.header('host'))) return true
    if (listed.size > 0) {
      const normalized = normalizeOrigin(origin)
      if (normalized !== undefined && listed.has(normalized)) return true
    }
    return decide !== undefined && decide(origin, view.request) === true
  }
}

export type Admission<User> =
  | { ok: true; user: User | undefined }
  | { ok: false; code: number; reason: string; error?: Error }

/** Raised inside `admit` when `authenticate` outlives `authenticateTimeout`. */
class AuthenticateTimeout extends Error {}

/**
 * Settles with `work`, or rejects with the signal's reason as soon as it aborts (the work
 * keeps running; its late result is ignored and its late failure handled).
 */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason)
    const onAbort = (): void => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
}

/** What `report` needs: an Error (a thrown non-Error is wrapped). */
const asError = (value: unknown): Error => (value instanceof Error ? value : new Error(String(value)))

export interface AdmitOptions<Req> {
  /** Aborts when the upgrade is abandoned (handshake timeout, socket closed, server closing). */
  signal: AbortSignal
  /** Longest `authenticate` may run, ms. */
  authenticateTimeout: number
  /** The origin check built by `originPolicy`. */
  originAllowed: (view: UpgradeView<Req>) => boolean
}

/**
 * Decides whether an upgrade request may connect: origin first (no `authenticate` call for a
 * refused origin), then `authenticate` within `authenticateTimeout`. Refusals are delivered
 * as a close code after the handshake (not as an HTTP status), because browsers hide the
 * HTTP status from scripts. Reported errors never contain the token.
 */
export async function admit<User, Req>(
  view: UpgradeView<Req>,
  options: RealtimeProtocolOptions<User, Req>,
  { signal, authenticateTimeout, originAllowed }: AdmitOptions<Req>,
): Promise<Admission<User>> {
  if (!originAllowed(view)) return { ok: false, code: CloseCode.Forbidden, reason: ORIGIN_REFUSED }
  const { authenticate } = options
  if (!authenticate) return { ok: true, user: undefined }
  const token = tokenOf(view)
  const deadline = new AbortController()
  const timer = setTimeout(() => deadline.abort(new AuthenticateTimeout()), authenticateTimeout)
  const abandon = (): void => deadline.abort(signal.reason)
  signal.addEventListener('abort', abandon, { once: true })
  try {
    const work = new Promise<User | null | undefined | false>((resolve) => resolve(authenticate(view.request, token, { signal: deadline.signal })))
    const user = await untilAborted(work, deadline.signal)
    if (user === null || user === undefined || user === false) {
      return { ok: false, code: CloseCode.Unauthorized, reason: 'unauthorized: missing or invalid token' }
    }
    return { ok: true, user }
  } catch (error) {
    if (error instanceof AuthenticateTimeout) {
      const late = new Error(`did not settle within ${authenticateTimeout} ms; the client was closed with 4401. Make it faster or raise "authenticateTimeout".`)
      return { ok: false, code: CloseCode.Unauthorized, reason: 'unauthorized: authentication timed out', error: late }
    }
    if (deadline.signal.aborted) return { ok: false, code: CloseCode.Unauthorized, reason: 'unauthorized: upgrade abandoned' }
    return { ok: false, code: CloseCode.Unauthorized, reason: 'unauthorized: authentication failed', error: asError(redactError(error, token)) }
  } finally {
    clearTimeout(timer)
    signal.removeEventListener('abort', abandon)
  }
}
