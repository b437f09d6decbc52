/**
 * Type probes: each `@ts-expect-error` line is an error only while the type is what it should
 * be. A type that collapsed to `any` accepts the line, the directive goes unused, and the
 * typecheck fails. Never called: typechecking is the test.
 */
import {
  closeCodeInfo,
  Connection,
  ConnectionManager,
  createRealtime,
  OutboxFullError,
  RealtimeProtocolError,
  useChannel,
  useRealtime,
  useWebSocket,
  type CloseInfo,
  type ConnectionOptions,
  type ConnectionStatus,
  type UseWebSocketReturn,
} from 'vue-realtime'
import { useRealtimeStore, type RealtimeConnectionInfo } from 'vue-realtime/pinia'
import { Connection as CoreConnection, normalizeUrl, type SendResult } from 'vue-realtime/core'

/** Accepts exactly a T: the argument is checked against T. */
const accept = <T>(value: T): T => value

export function probeMainEntry(ws: UseWebSocketReturn<{ n: number }, { op: string }>): void {
  // @ts-expect-error ConnectionStatus is a union of names, not any
  accept<ConnectionStatus>('bogus')
  // @ts-expect-error ConnectionOptions is an object type with known keys, not any
  accept<ConnectionOptions>({ heartbeat: 'often' })
  // @ts-expect-error CloseInfo has a numeric code
  accept<CloseInfo>({ code: '1000', reason: '', wasClean: true, name: '', description: '', retryable: false })
  // @ts-expect-error closeCodeInfo takes a number
  closeCodeInfo('1000')
  // @ts-expect-error closeCodeInfo(...).retryable is a boolean
  accept<string>(closeCodeInfo(4401).retryable)
  // @ts-expect-error a Connection's status is a ConnectionStatus
  accept<number>(new Connection('wss://example.com/ws').status)
  // @ts-expect-error ConnectionManager.acquire returns a Connection
  accept<string>(new ConnectionManager().acquire('wss://example.com/ws'))
  // @ts-expect-error useRealtime() returns a ConnectionManager
  accept<string>(useRealtime())
  // @ts-expect-error createRealtime() returns the plugin
  accept<number>(createRealtime())
  // @ts-expect-error useWebSocket().connection holds a Connection or undefined
  accept<number>(ws.connection.value)
  // @ts-expect-error useWebSocket().status holds a ConnectionStatus
  accept<number>(ws.status.value)
  // @ts-expect-error messages are the In type
  accept<string>(ws.messages.value[0]!.n)
  // @ts-expect-error send takes the Out type
  ws.send({ op: 1 })
  // @ts-expect-error OutboxFullError is a class (an Error), not any
  accept<number>(new OutboxFullError(1, 1))
  // @ts-expect-error RealtimeProtocolError is an Error
  accept<number>(new RealtimeProtocolError('x', 'y'))
  // @ts-expect-error useWebSocket's url is a string, URL, ref or getter
  useWebSocket(42)
}

export function probeChannel(): void {
  const channel = useChannel<{ text: string }>('room:general')
  // @ts-expect-error publish takes the channel's T
  void channel.publish({ text: 1 })
  // @ts-expect-error messages carry the channel's T
  accept<number>(channel.messages.value[0]!.data.text)
}

export function probePinia(): void {
  const store = useRealtimeStore()
  // @ts-expect-error openCount is a number
  accept<string>(store.openCount)
  // @ts-expect-error connection(url) returns the connection's info or undefined
  accept<number>(store.connection('wss://example.com/ws'))
  // @ts-expect-error connect() returns a Connection or undefined
  accept<number>(store.connect('wss://example.com/ws'))
  // @ts-expect-error RealtimeConnectionInfo.key is a string
  accept<RealtimeConnectionInfo>({ ...store.connections['x']!, key: 1 })
}

export function probeCore(): void {
  // @ts-expect-error normalizeUrl returns a string
  accept<number>(normalizeUrl('/ws'))
  // @ts-expect-error send returns 'sent' | 'queued' | 'dropped'
  accept<SendResult>('lost')
  // @ts-expect-error the core's Connection is the same class as the main entry's
  accept<number>(new CoreConnection('wss://example.com/ws').state)
  // One class for both entries: a Connection of /core is a Connection of the main entry.
  accept<Connection>(new CoreConnection('wss://example.com/ws'))
}
