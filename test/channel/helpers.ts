/**
 * ProtocolClient test rig: a `Connection` with `ws` and quick retries, its protocol client, and
 * listeners that record what each subscriber was shown. Everything made is disposed after each test.
 */
import WebSocket from 'ws'
import { Connection } from '../../src/core/connection'
import { mergeOptions } from '../../src/core/manager'
import { ProtocolClient, protocolConnectionOptions, type GapInfo, type TopicListener } from '../../src/core/protocolClient'
import type { MessageFrame, SubscribedFrame } from '../../src/core/protocol'
import type { ConnectionOptions } from '../../src/core/types'
import { createRealtimeServer, memoryEngine, type RealtimeEngine, type RealtimeServer, type RealtimeServerOptions } from '../../src/server'

export const NodeWebSocket = WebSocket as unknown as NonNullable<ConnectionOptions['WebSocket']>

/** What one subscriber saw. */
export interface Watcher {
  listener: TopicListener
  messages: MessageFrame[]
  joins: SubscribedFrame[]
  gaps: GapInfo[]
  errors: Error[]
  seqs(): (number | undefined)[]
  stop: () => void
}

export function createRig() {
  const cleanups: (() => unknown)[] = []

  async function startServer(options: RealtimeServerOptions = {}): Promise<RealtimeServer> {
    const server = createRealtimeServer({ port: 0, host: '127.0.0.1', ...options })
    await server.ready
    cleanups.push(() => server.close({ timeout: 200 }).catch(() => {}))
    return server
  }

  function client(url: string, extra: ConnectionOptions = {}) {
    const connection = new Connection(
      url,
      mergeOptions(protocolConnectionOptions, { WebSocket: NodeWebSocket, reconnect: { minDelay: 20, maxDelay: 200 }, ...extra }),
    )
    cleanups.push(() => connection.dispose())
    const protocol = ProtocolClient.for(connection)
    const watch = (topic: string, history = 0): Watcher => {
      const watcher: Watcher = {
        messages: [],
        joins: [],
        gaps: [],
        errors: [],
        seqs: () => watcher.messages.map((m) => m.seq),
        listener: {
          message: (m) => watcher.messages.push(m),
          subscribed: (s) => watcher.joins.push(s),
          gap: (g) => watcher.gaps.push(g),
          error: (e) => watcher.errors.push(e),
        },
        stop: () => {},
      }
      watcher.stop = protocol.subscribe(topic, watcher.listener, { history })
      return watcher
    }
    return { connection, protocol, watch, open: () => connection.open() }
  }

  return {
    startServer,
    client,
    defer: (cleanup: () => unknown) => cleanups.push(cleanup),
    async cleanup() {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
    },
  }
}

/** 1..n as an array. */
export const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i)

/**
 * A memory engine whose store can be "away" (as a Redis that went down): while `away.subscribe`
 * or `away.publish` is set, those calls fail, and the server refuses them with `internal`.
 */
export function engineAway(): { engine: RealtimeEngine; away: { subscribe: boolean; publish: boolean } } {
  const inner = memoryEngine()
  const away = { subscribe: false, publish: false }
  const gone = (): Promise<never> => Promise.reject(new Error('the store is away'))
  const engine: RealtimeEngine = {
    name: 'memory, with its store away at will',
    ready: () => inner.ready(),
    publish: (m) => (away.publish ? gone() : inner.publish(m)),
    broadcast: (m) => (away.publish ? gone() : inner.broadcast(m)),
    history: (topic, query) => inner.history(topic, query),
    exists: (topic) => inner.exists(topic),
    subscribe: (topic, listener) => (away.subscribe ? gone() : inner.subscribe(topic, listener)),
    announce: (topic, event, member) => inner.announce(topic, event, member),
    members: (topic) => inner.members(topic),
    topics: () => inner.topics(),
    close: () => inner.close(),
  }
  return { engine, away }
}
