/**
 * Credentials kept out of text that is shown or logged: error messages, warnings, server
 * reports. The connection itself still uses the real URL; only what is printed is redacted.
 */

/** What a redacted value is replaced with. */
const REDACTED = '***'

/**
 * A query parameter whose value is a credential: `token`, `access_token`, `id_token`, `auth`,
 * `jwt`, `key`, `api_key`, `apikey`, `secret`, `password`, `sig`, `X-Amz-Signature`,
 * `session`, `ticket`... The value runs to the next `&`, `#`, quote or whitespace (a `:`, `,`
 * or `)` before whitespace ends it too), so it is found inside a longer message and in a URL
 * that does not parse.
 */
const SECRET_PARAM =
  /([?&;](?:[\w.-]*[_-])?(?:token|auth|authorization|jwt|key|apikey|secret|password|passwd|pwd|sig|signature|session|sessionid|ticket|credentials?)=)(?:[^&#\s"'`<>:,)]|[:,)](?!\s|$))+/gi
/** The password of `scheme://user:password@host`. */
const USERINFO_PASSWORD = /(\/\/[^\s/?#@:]*:)[^\s/?#@]+@/g
/** The token subprotocol entry (`vue-realtime.token.<token>`, see `TOKEN_PROTOCOL_PREFIX`). */
const TOKEN_PROTOCOL = /(vue-realtime\.token\.)[!#$%&'*+\-.^_`|~0-9A-Za-z]+/g

/**
 * `text` with the credentials of every URL in it masked (`***`): the values of token-like
 * query parameters, a URL's password, and a `vue-realtime.token.*` subprotocol. The rest of
 * the text is unchanged.
 *
 * @example redactSecrets('error on wss://h/ws?token=eyJhbGc&room=1') // 'error on wss://h/ws?token=***&room=1'
 */
export function redactSecrets(text: string): string {
  return text.replace(SECRET_PARAM, `$1${REDACTED}`).replace(USERINFO_PASSWORD, `$1${REDACTED}@`).replace(TOKEN_PROTOCOL, `$1${REDACTED}`)
}

/**
 * `error` fit to print (`console.error(info)` prints the cause too): an Error whose message or
 * stack names a credential (or holds `secret`) becomes a copy without it and without its own
 * `cause`; a socket error event becomes its `error` (the event's target, the socket, holds the
 * URL), or undefined when it has none (a browser's error event carries nothing else).
 */
export function redactError(error: unknown, secret?: string): unknown {
  if (error instanceof Error) {
    const scrub = (text: string): string => redactSecrets(secret ? text.split(secret).join(REDACTED) : text)
    const message = scrub(error.message)
    const stack = error.stack === undefined ? undefined : scrub(error.stack)
    if (message === error.message && stack === error.stack) return error
    const copy = new Error(message)
    copy.name = error.name
    copy.stack = stack
    return copy
  }
  if (typeof error === 'string') return redactSecrets(secret ? error.split(secret).join(REDACTED) : error)
  if (error !== null && typeof error === 'object' && 'target' in error && 'type' in error) {
    const inner = (error as { error?: unknown }).error
    return inner instanceof Error ? redactError(inner, secret) : undefined
  }
  return error
}
