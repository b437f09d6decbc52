/**
 * What a channel's connection is made of: the protocol's options under the user's, the
 * protocol's subprotocol kept in front of the user's, the token as a connection option; and
 * how a connection that failed for good is explained in `useChannel`'s `error`.
 */
import { mergeOptions } from '../core/manager'
import { PROTOCOL } from '../core/protocol'
import { protocolConnectionOptions, RealtimeProtocolError } from '../core/protocolClient'
import type { CloseInfo, ConnectionOptions } from '../core/types'
import { tokenOption, type TokenSource } from './token'

/** The protocol's subprotocol first, then the user's (never replaced by them). */
function channelProtocols(user: string | string[] | undefined): string | string[] {
  const extra = [user ?? []].flat().filter((p) => p !== PROTOCOL)
  return extra.length === 0 ? PROTOCOL : [PROTOCOL, ...extra]
}

/** `error` for a connection that failed for good, naming the cause and the fix; the token never appears. */
export function failure(close: CloseInfo | null, reason: string | undefined): RealtimeProtocolError {
  if (!close) {
    const why = (reason ?? 'retries exhausted').replace(/^vue-realtime: /, '').replace(/\.$/, '')
    return new RealtimeProtocolError('failed', `vue-realtime: the channel's connection failed: ${why}. Call reconnect() to try again.`)
  }
  const what = `${close.code} ${close.name}${close.reason ? `: ${close.reason}` : ''}`
  if (close.retryable) {
    return new RealtimeProtocolError('failed', `vue-realtime: the channel's connection gave up reconnecting (last close: ${what}). Call reconnect() to try again.`, { cause: close })
  }
  const fix =
    close.code === 4401
      ? 'The server refused the token: give a valid `token` (useChannel or createRealtime), then call reconnect().'
      : close.code === 4403
        ? "The server refused this page's origin: add it to the server's `origins`."
        : `${close.description} Fix the cause, then call reconnect().`
  return new RealtimeProtocolError('failed', `vue-realtime: the server refused the channel's connection (${what}). ${fix}`, { cause: close })
}

/** The connection options of a channel: the protocol's, the user's, and the token. */
export function channelConnectionOptions(
  user: ConnectionOptions | undefined,
  token: TokenSource | undefined,
): ConnectionOptions {
  const options: ConnectionOptions = { ...user, protocols: channelProtocols(user?.protocols) }
  if (token !== undefined) options.token = tokenOption(token)
  return mergeOptions(protocolConnectionOptions, options)
}
