import type { WebSocketData, WebSocketLike } from '../../src/core/types'

/** A WebSocket double driven by the test: `accept()`, `serverClose()`, `receive()`. */
export class FakeWebSocket implements WebSocketLike {
  static instances: FakeWebSocket[] = []
  static reset(): void {
    FakeWebSocket.instances = []
  }
  static get last(): FakeWebSocket {
    const socket = FakeWebSocket.instances.at(-1)
    if (!socket) throw new Error('no FakeWebSocket was constructed')
    return socket
  }

  readyState = 0
  bufferedAmount = 0
  protocol = ''
  binaryType = 'blob'
  sent: WebSocketData[] = []
  closedWith: { code?: number; reason?: string } | null = null
  terminated = false
  onopen: ((ev: unknown) => void) | null = null
  onmessage: ((ev: { data: unknown }) => void) | null = null
  onclose: ((ev: { code: number; reason: string; wasClean: boolean }) => void) | null = null
  onerror: ((ev: unknown) => void) | null = null

  constructor(
    readonly url: string,
    readonly protocols?: string | string[],
  ) {
    FakeWebSocket.instances.push(this)
  }

  send(data: WebSocketData): void {
    if (this.readyState !== 1) throw new Error('InvalidStateError: not open')
    this.sent.push(data)
  }

  close(code?: number, reason?: string): void {
    this.closedWith = { code, reason }
    if (this.readyState === 3) return
    this.readyState = 2
  }

  terminate(): void {
    this.terminated = true
    this.readyState = 3
  }

  // ── driven by tests ──
  accept(): this {
    this.readyState = 1
    this.onopen?.({})
    return this
  }

  receive(data: unknown): this {
    this.onmessage?.({ data })
    return this
  }

  serverClose(code = 1006, reason = '', wasClean = code !== 1006): this {
    this.readyState = 3
    this.onclose?.({ code, reason, wasClean })
    return this
  }

  /** Completes a closing handshake the client started. */
  finishClose(): this {
    const code = this.closedWith?.code ?? 1005
    this.readyState = 3
    this.onclose?.({ code, reason: this.closedWith?.reason ?? '', wasClean: true })
    return this
  }
}
