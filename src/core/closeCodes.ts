import type { CloseCodeInfo } from './types'

/**
 * RFC 6455 §7.4 and the IANA "WebSocket Close Code Number Registry", as `name:description`
 * entries: rows 0–15 are codes 1000–1015, then the ranges (see `row` below). One string split
 * at load is the smallest form a bundle can carry; `closeCodeInfo` turns a row into an object.
 */
const TABLE = (
  'Normal Closure:Closed normally.|' +
  'Going Away:Server shutting down or page leaving.|' +
  'Protocol Error:Protocol violation.|' +
  'Unsupported Data:Data type not accepted.|' +
  'Reserved:Reserved; no meaning.|' +
  'No Status Received:Closed without a status code.|' +
  'Abnormal Closure:Lost without a closing handshake.|' +
  'Invalid Frame Payload Data:Data inconsistent with its type.|' +
  'Policy Violation:Refused by server policy (auth, rate limit).|' +
  'Message Too Big:Message too large for the peer.|' +
  'Mandatory Extension:Required extension not negotiated.|' +
  'Internal Error:Unexpected server error.|' +
  'Service Restart:Server restarting.|' +
  'Try Again Later:Server overloaded; retry later.|' +
  'Bad Gateway:Proxy got a bad upstream response.|' +
  'TLS Handshake:TLS handshake failed.|' +
  'Registered (library/framework):Defined by a library or framework.|' +
  'Private (client error):Client refused (e.g. unauthorized); retrying will not help.|' +
  'Private (application):Defined by this application.|' +
  'Reserved:Reserved for future extensions.|' +
  'Unknown:Not a valid close code.'
).split('|')

/**
 * Rows whose codes are fatal (retryable: false): retrying the same request cannot succeed until
 * something changes on the client side or in configuration.
 * - 1002 Protocol Error, 1003 Unsupported Data, 1007 Invalid Payload: this client speaks
 *   something the server will reject again, byte for byte.
 * - 1008 Policy Violation: the server refused us on purpose (auth, rate limit, origin);
 *   hammering it again makes things worse.
 * - 1009 Message Too Big: the message that caused it is still in hand.
 * - 1010 Mandatory Extension: the client lacks an extension the server requires.
 * - 1015 TLS Handshake: certificate problems do not fix themselves.
 * - 4400-4499 (row 17): the convention (graphql-ws, Centrifugo) for "client error, do not
 *   retry": 401/403-style auth failures that need a new token.
 * Everything else (1000 normal closes from the server side, 1001 going away, 1006 lost,
 * 1011 server error, 1012 restart, 1013 try again later, 1014 bad gateway, other 3xxx/4xxx)
 * is retried with backoff. `shouldReconnect` overrides either way.
 */
const FATAL = [2, 3, 7, 8, 9, 10, 15, 17]

/** The table row for `code`. */
function row(code: number): number {
  if (code >= 1000 && code <= 1015 && code % 1 === 0) return code - 1000
  if (code >= 3000 && code <= 3999) return 16
  if (code >= 4400 && code <= 4499) return 17
  if (code >= 4000 && code <= 4999) return 18
  return code >= 1016 && code <= 2999 ? 19 : 20
}

/**
 * Explains a close code: name, description and whether the connection retries after it.
 *
 * @example
 * closeCodeInfo(1012) // { code: 1012, name: 'Service Restart', retryable: true, ... }
 * closeCodeInfo(4401) // { code: 4401, name: 'Private (client error)', retryable: false, ... }
 */
export function closeCodeInfo(code: number): CloseCodeInfo {
  const index = row(code)
  const [name, description] = TABLE[index].split(':')
  return { code, name, description, retryable: !FATAL.includes(index) }
}

/** Close codes a browser lets a script send: 1000 and 3000–4999. */
export function isSendableCloseCode(code: number): boolean {
  return code === 1000 || (code >= 3000 && code <= 4999)
}
