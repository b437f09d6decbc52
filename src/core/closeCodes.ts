import type { CloseCodeInfo } from './types'

/**
 * RFC 6455 §7.4 and the IANA "WebSocket Close Code Number Registry".
 *
 * Fatal (retryable: false) codes are the ones where retrying the same request cannot
 * succeed until something changes on the client side or in configuration:
 * - 1002 Protocol Error, 1003 Unsupported Data, 1007 Invalid Payload: this client speaks
 *   something the server will reject again, byte for byte.
 * - 1008 Policy Violation: the server refused us on purpose (auth, rate limit, origin);
 *   hammering it again makes things worse.
 * - 1009 Message Too Big: the message that caused it is still in hand.
 * - 1010 Mandatory Extension: the client lacks an extension the server requires.
 * - 1015 TLS Handshake: certificate problems do not fix themselves.
 * - 4400-4499: the convention (graphql-ws, Centrifugo) for "client error, do not retry":
 *   401/403-style auth failures that need a new token.
 * Everything else (1000 normal closes from the server side, 1001 going away, 1006 lost,
 * 1011 server error, 1012 restart, 1013 try again later, 1014 bad gateway, other 3xxx/4xxx)
 * is retried with backoff. `shouldReconnect` overrides either way.
 */
const KNOWN: Record<number, [name: string, description: string, retryable: boolean]> = {
  1000: ['Normal Closure', 'The connection was closed on purpose and the work is done.', true],
  1001: ['Going Away', 'The server is shutting down or the page is navigating away.', true],
  1002: ['Protocol Error', 'An endpoint received a frame that breaks the WebSocket protocol.', false],
  1003: ['Unsupported Data', 'An endpoint received a kind of data it cannot accept (for example binary where only text is allowed).', false],
  1004: ['Reserved', 'Reserved by RFC 6455; no meaning is defined.', true],
  1005: ['No Status Received', 'The connection closed without a status code.', true],
  1006: ['Abnormal Closure', 'The connection was lost without a closing handshake (network drop, crash or timeout).', true],
  1007: ['Invalid Frame Payload Data', 'A message had data inconsistent with its type (for example invalid UTF-8 in a text frame).', false],
  1008: ['Policy Violation', 'The server refused a message or the connection because it breaks its policy (authentication, rate limit, origin).', false],
  1009: ['Message Too Big', 'A message was larger than the other side accepts.', false],
  1010: ['Mandatory Extension', 'The client expected the server to negotiate an extension it did not.', false],
  1011: ['Internal Error', 'The server hit an unexpected condition while handling the connection.', true],
  1012: ['Service Restart', 'The server is restarting; reconnect after a short delay.', true],
  1013: ['Try Again Later', 'The server is overloaded or temporarily unavailable; reconnect later.', true],
  1014: ['Bad Gateway', 'A gateway or proxy received an invalid response from the upstream server.', true],
  1015: ['TLS Handshake', 'The TLS handshake failed (for example the certificate could not be verified).', false],
}

/**
 * Explains a close code: name, description and whether the connection retries after it.
 *
 * @example
 * closeCodeInfo(1012) // { code: 1012, name: 'Service Restart', retryable: true, ... }
 * closeCodeInfo(4401) // { code: 4401, name: 'Private (client error)', retryable: false, ... }
 */
export function closeCodeInfo(code: number): CloseCodeInfo {
  const known = KNOWN[code]
  if (known) return { code, name: known[0], description: known[1], retryable: known[2] }
  if (code >= 3000 && code <= 3999) {
    return {
      code,
      name: 'Registered (library/framework)',
      description: 'A code registered with IANA by a library or framework; see its documentation.',
      retryable: true,
    }
  }
  if (code >= 4400 && code <= 4499) {
    return {
      code,
      name: 'Private (client error)',
      description: 'The application refused this client (for example unauthorized or forbidden); retrying will not help until the client changes.',
      retryable: false,
    }
  }
  if (code >= 4000 && code <= 4999) {
    return {
      code,
      name: 'Private (application)',
      description: 'A code defined by this application.',
      retryable: true,
    }
  }
  if (code >= 1016 && code <= 2999) {
    return { code, name: 'Reserved', description: 'Reserved for future WebSocket extensions.', retryable: true }
  }
  return { code, name: 'Unknown', description: 'Not a valid WebSocket close code.', retryable: true }
}

/** Close codes a browser lets a script send: 1000 and 3000–4999. */
export function isSendableCloseCode(code: number): boolean {
  return code === 1000 || (code >= 3000 && code <= 4999)
}
