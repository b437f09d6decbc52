/**
 * Normalises a WebSocket URL: `ws:`/`wss:` kept, `http:`/`https:` converted, a path
 * resolved against `location` in a browser. Anything else throws a TypeError that names
 * the URL and the accepted forms.
 */
export function normalizeUrl(input: string | URL): string {
  const raw = input instanceof URL ? input.href : input
  const fail = (why: string): never => {
    throw new TypeError(
      `vue-realtime: invalid WebSocket URL ${JSON.stringify(raw)} (${why}). ` +
        'Use an absolute ws:// or wss:// URL (http:// and https:// are converted), or a path such as "/ws" in a browser.',
    )
  }
  if (typeof raw !== 'string' || raw.trim() === '') return fail('empty')
  const location = (globalThis as { location?: { href?: string } }).location
  let url: URL
  try {
    url = location?.href ? new URL(raw, location.href) : new URL(raw)
  } catch {
    return fail(location?.href ? 'not a URL' : 'not an absolute URL, and there is no page location to resolve it against')
  }
  if (url.protocol === 'http:') url.protocol = 'ws:'
  else if (url.protocol === 'https:') url.protocol = 'wss:'
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') return fail(`unsupported scheme ${url.protocol}`)
  if (url.hash) return fail('WebSocket URLs cannot have a #fragment')
  return url.href
}

/** The key a manager shares connections by: URL plus subprotocols. */
export function connectionKey(url: string, protocols?: string | string[]): string {
  const list = protocols === undefined ? [] : Array.isArray(protocols) ? protocols : [protocols]
  return list.length === 0 ? url : `${url} ${list.join(',')}`
}
