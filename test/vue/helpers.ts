/**
 * A real `ws` server on 127.0.0.1, port 0, that records what the Vue-layer tests assert on:
 * how many TCP connections it accepted, which are still open, and what it received.
 */
import { WebSocket, WebSocketServer } from 'ws'
import type { WebSocketConstructor } from '../../src/core/types'
import { once } from '../support/wait'

export interface TestServer {
  /** ws://127.0.0.1:<port><path> */
  url: (path?: string) => string
  /** Every connection ever accepted. */
  accepted: WebSocket[]
  /** Connections not closed yet. */
  open: () => number
  /** Every text frame received, in order. */
  received: string[]
  /** Sends to every open client. */
  broadcast: (data: string) => void
  close: () => Promise<void>
}

export async function startServer(): Promise<TestServer> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  await once(wss, 'listening')
  const { port } = wss.address() as { port: number }
  const accepted: WebSocket[] = []
  const received: string[] = []
  wss.on('connection', (socket) => {
    accepted.push(socket)
    socket.on('message', (data) => received.push(String(data)))
  })
  return {
    url: (path = '/') => `ws://127.0.0.1:${port}${path}`,
    accepted,
    open: () => accepted.filter((s) => s.readyState === WebSocket.OPEN || s.readyState === WebSocket.CONNECTING).length,
    received,
    broadcast: (data) => {
      for (const s of wss.clients) if (s.readyState === WebSocket.OPEN) s.send(data)
    },
    close: async () => {
      for (const s of wss.clients) s.terminate()
      await new Promise<void>((resolve) => wss.close(() => resolve()))
    },
  }
}

/** `ws`'s WebSocket as the core's constructor type. */
export const NodeWebSocket = WebSocket as unknown as WebSocketConstructor

/** A WebSocket constructor that records every construction and throws (it must never be called). */
export function webSocketSpy(): WebSocketConstructor & { calls: unknown[][] } {
  const calls: unknown[][] = []
  const Spy = function (this: unknown, ...args: unknown[]) {
    calls.push(args)
    throw new Error('WebSocket constructed')
  } as unknown as WebSocketConstructor & { calls: unknown[][] }
  Spy.calls = calls
  return Spy
}

/** Connection options for tests: `ws` in Node, no heartbeat frames, a short idle timeout. */
export const testOptions = { WebSocket: NodeWebSocket, heartbeat: false, idleTimeout: 20 } as const
