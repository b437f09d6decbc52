/**
 * A Node server file as a user writes it next to a create-vite app, typechecked under
 * create-vite's `tsconfig.node.json` (`module: nodenext`) and under `node16`. The probes fail the
 * typecheck if `vue-realtime/server` or `/core` resolve to `any`.
 */
import WebSocket from 'ws'
import {
  createRealtimeServer,
  RequestError,
  type RealtimeClient,
  type RealtimeServer,
  type RealtimeServerOptions,
} from 'vue-realtime/server'
import { closeCodeInfo, Connection, ProtocolClient, type ConnectionStatus } from 'vue-realtime/core'

interface User {
  name: string
}

const options: RealtimeServerOptions<User> = {
  port: 0,
  authenticate: (_req, token) => (token ? { name: token } : null),
  onRequest: {
    whoami: (_data, client: RealtimeClient<User>) => client.user?.name,
    fail: () => {
      throw new RequestError('not_found', 'nothing here')
    },
  },
}

export function start(): RealtimeServer<User> {
  return createRealtimeServer<User>(options)
}

export function client(url: string): ProtocolClient {
  const connection = new Connection(url, { WebSocket, protocols: ['vue-realtime.v1'], token: () => 'alice' })
  return new ProtocolClient(connection)
}

/** Accepts exactly a T. */
const accept = <T>(value: T): T => value

export function probes(server: RealtimeServer<User>, connection: Connection): void {
  // @ts-expect-error port is a number, not any
  accept<string>(server.port)
  // @ts-expect-error topics() returns string[]
  accept<number>(server.topics())
  // @ts-expect-error RealtimeServerOptions is an object type with known keys
  accept<RealtimeServerOptions>({ port: 'eighty' })
  // @ts-expect-error close codes are numbers
  closeCodeInfo('1012')
  // @ts-expect-error ConnectionStatus is a union of names
  accept<ConnectionStatus>('bogus')
  // @ts-expect-error a Connection's state is an object
  accept<number>(connection.state)
  // @ts-expect-error RequestError takes a code and a message
  accept<number>(new RequestError('x', 'y'))
}
