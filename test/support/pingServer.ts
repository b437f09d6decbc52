import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import WebSocket, { WebSocketServer } from 'ws'

/**
 * A loopback ws server that answers `ping` with `pong`, records every message, counts TCP
 * connections, and can stop (refusing connections) and start again on the same port.
 */
export class TestServer {
  http!: Server
  wss!: WebSocketServer
  port = 0
  tcpConnections = 0
  received: string[] = []
  sockets = new Set<WebSocket>()

  async start(): Promise<this> {
    this.http = createServer()
    this.http.on('connection', () => this.tcpConnections++)
    this.wss = new WebSocketServer({ server: this.http })
    this.wss.on('connection', (socket) => {
      this.sockets.add(socket)
      socket.on('close', () => this.sockets.delete(socket))
      socket.on('message', (data) => {
        const text = data.toString()
        if (text === 'ping') socket.send('pong')
        else this.received.push(text)
      })
    })
    await new Promise<void>((resolve) => this.http.listen(this.port, '127.0.0.1', resolve))
    this.port = (this.http.address() as AddressInfo).port
    return this
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}/`
  }

  /** Closes every client with `code` and stops listening (new connections are refused). */
  async stop(code = 1001): Promise<void> {
    for (const socket of this.sockets) socket.close(code, 'test server stopping')
    const closed = new Promise<void>((resolve) => this.http.close(() => resolve()))
    this.wss.close()
    // Sockets that never answer the closing handshake (a paused one) are cut.
    for (const socket of this.sockets) socket.terminate()
    this.http.closeAllConnections()
    await closed
  }
}

