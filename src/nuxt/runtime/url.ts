/**
 * The app's default realtime URL, from the public runtime config and where the page is served.
 * Pure, so the server render and the client compute the same string.
 */

/** `base` and `path` joined with exactly one slash between them. */
export function joinPath(base: string, path: string): string {
  const left = base.endsWith('/') ? base.slice(0, -1) : base
  const right = path.startsWith('/') ? path : `/${path}`
  return left + right
}

/**
 * The URL composables connect to by default:
 * - `url` absolute (`ws:`, `wss:`, `http:`, `https:`): that URL, `http(s)` turned into `ws(s)`;
 * - `url` a path (`/ws`): on the page's origin;
 * - `url` empty: the page's origin, plus `baseURL`, plus `path`.
 * @param origin The page's origin, e.g. `https://example.com` (`useRequestURL().origin`).
 */
export function resolveRealtimeUrl(config: { url?: string; path: string }, origin: string, baseURL: string): string {
  const configured = config.url?.trim()
  const target = configured
    ? /^[a-z][a-z0-9+.-]*:/i.test(configured)
      ? configured
      : new URL(configured, origin).href
    : new URL(joinPath(baseURL, config.path), origin).href
  return target.replace(/^http(s?):/i, 'ws$1:')
}
