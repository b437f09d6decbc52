/**
 * What the protocol core needs of a connected WebSocket, whatever library carries it (`ws` in
 * `createRealtimeServer`, a crossws peer in `createRealtimeHooks`). Text frames only: the
 * protocol has no binary frames.
 */
export interface TransportSocket {
  /** Can frames still be sent? */
  isOpen(): boolean
  /** Bytes waiting to be sent (the slow-consumer limit); 0 where the transport cannot tell. */
  readonly bufferedAmount: number
  /** Sends one text frame (a `Buffer` holds UTF-8 text). */
  send(text: string | Buffer): void
  /** Starts the closing handshake. May throw on a code or reason the transport refuses. */
  close(code: number, reason: string): void
  /** Drops the connection at once, without a closing handshake. */
  terminate(): void
}

/** What a transport tells the core about one accepted connection. */
export interface TransportPeer {
  /** One inbound message (`isBinary`: a binary frame, answered with an error). */
  receive(data: Buffer, isBinary: boolean): void
  /** A protocol-level ping arrived: the client is alive. */
  ping(): void
  /** The socket is closed (by either side). */
  closed(code: number, reason: string): void
}
