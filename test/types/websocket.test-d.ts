/**
 * The WebSocket constructors users pass: `ws`'s (Node) and the DOM's, without a cast, under
 * `strict` (TypeScript 6 turns it on by default). Before the handler properties were
 * bivariant, `new Connection(url, { WebSocket })` with `ws` failed to compile in strict mode.
 */
import { expectTypeOf, test } from 'vitest'
import WsWebSocket from 'ws'
import { Connection, type WebSocketConstructor, type WebSocketLike } from '../../src/core'

test("ws's WebSocket is a WebSocketConstructor", () => {
  expectTypeOf(WsWebSocket).toExtend<WebSocketConstructor>()
  expectTypeOf<WsWebSocket>().toExtend<WebSocketLike>()
  expectTypeOf(new Connection('ws://127.0.0.1:1/', { WebSocket: WsWebSocket })).toEqualTypeOf<Connection<unknown, unknown>>()
})

test("the DOM's WebSocket is a WebSocketConstructor", () => {
  expectTypeOf(globalThis.WebSocket).toExtend<WebSocketConstructor>()
  expectTypeOf<WebSocket>().toExtend<WebSocketLike>()
})
