import { TOKEN_PROTOCOL_PREFIX } from './protocol'
import { redactSecrets } from './redact'

/** Bundlers fold this per file (`process.env.NODE_ENV` replaced), so dev-only text leaves production builds. */

/**
 * Normalises a WebSocket URL: `ws:`/`wss:` kept, `http:`/`https:` converted, a path
 * resolved against `location` in a browser. Anything else throws a TypeError that names
 * the URL (and, in development, why it was refused and the accepted forms).
 */
export function normalizeUrl(input: string | URL): string {
  const raw = input instanceof URL ? input.href : input
  const base = (globalThis as { location?: { href?: string } }).location?.href || undefined
  let url: URL | undefined
  try {
    // A blank string would resolve to the page itself.
    if (typeof raw === 'string' && raw.trim()) url = new URL(raw, base)
  } catch {
    // Not a URL: refused below.
  }
  if (url) url.protocol = url.protocol.replace(/^http(s?):$/, 'ws$1:')
  if (url && /^wss?:$/.test(url.protocol) && !url.hash) return url.href
  throw new TypeError(
    `vue-realtime: invalid WebSocket URL ${JSON.stringify(typeof raw === 'string' ? redactSecrets(raw) : raw)}` +
      (process.env.NODE_ENV !== 'production'
        ? ` (${refusal(raw, url, base)}). ` +
          'Use an absolute ws:// or wss:// URL (http:// and https:// are converted), or a path such as "/ws" in a browser.'
        : ''),
  )
}

/** Why `normalizeUrl` refused a URL (development builds only). */
function refusal(raw: unknown, url: URL | undefined, base: string | undefined): string {
  if (typeof raw !== 'string' || raw.trim() === '') return 'empty'
  if (!url) return base ? 'not a URL' : 'not an absolute URL, and there is no page location to resolve it against'
  if (!/^wss?:$/.test(url.protocol)) return `unsupported scheme ${url.protocol}`
  return 'WebSocket URLs cannot have a #fragment'
}

/** The key a manager shares connections by: URL plus subprotocols. */
export function connectionKey(url: string, protocols?: string | string[]): string {
  const list = [protocols ?? []].flat()
  return list.length === 0 ? url : `${url} ${list.join(',')}`
}

/** Subprotocols fit to show: a token subprotocol (`vue-realtime.token.<t>`) becomes `vue-realtime.token.***`. */
export function redactProtocols(protocols?: string | string[], tokenProtocol = TOKEN_PROTOCOL_PREFIX): string[] {
  return [protocols ?? []].flat().map((protocol) => (tokenProtocol && protocol.startsWith(tokenProtocol) ? `${tokenProtocol}***` : protocol))
}

/**
 * A connection key fit to show: `connectionKey` of the redacted URL and subprotocols. Unlike the
 * manager's key it may be equal for two connections (two users' tokens): whoever lists
 * connections by it must keep them apart (see `useRealtimeStore`).
 */
export function displayKey(url: string, protocols?: string | string[], tokenProtocol?: string): string {
  return connectionKey(redactSecrets(url), redactProtocols(protocols, tokenProtocol))
}
