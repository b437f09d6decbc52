/**
 * How frames leave the server. Fan-out spends its time in syscalls, not in JavaScript: profiles
 * of the fan-out bench (1,000 subscribers) show 60 % of the server's time in `writev`, one per
 * delivery. So a socket writes once per tick, whatever it was sent during it, and a broadcast
 * frame is encoded once, header included, for every subscriber.
 */

/** The socket under a WebSocket (`net.Socket`, `tls.TLSSocket`): what the outbound path writes to. */
export interface RawSocket {
  cork(): void
  uncork(): void
  write(chunk: Buffer): boolean
  readonly destroyed: boolean
}

/** A connection a batch holds corked until the end of the tick. */
export interface Held {
  release(): void
}

/**
 * Coalesces the frames each socket is sent within one tick into one write. A connection corks
 * its socket at its first frame of the tick and joins the batch; once the tick's synchronous
 * work and microtasks are done, one `process.nextTick` releases (uncorks) every socket held, so
 * each one's frames leave in one `writev`, however many publishes they come from.
 *
 * At a trickle (one publish per tick) this changes nothing: one frame, one write, at the end
 * of the same tick. Under load, when several publishes (or a burst from a Redis feed) are
 * handled in one tick, the cost per delivery falls with the size of the burst instead of
 * staying at one syscall each, and each subscriber reads the burst in one wake-up: a server
 * that falls behind catches up instead of building a queue.
 */
export class WriteBatch {
  private held: Held[] = []

  add(connection: Held): void {
    if (this.held.length === 0) process.nextTick(this.flush)
    this.held.push(connection)
  }

  private readonly flush = (): void => {
    const held = this.held
    this.held = []
    for (const connection of held) connection.release()
  }
}

const FIN_TEXT = 0x81

/**
 * A whole server-to-client text frame around `payload` (RFC 6455 §5.2: FIN, opcode 1, not
 * masked, no extension), byte for byte what `ws` writes for `send(payload)` without
 * `perMessageDeflate`. Encoded once per broadcast and written as is to every subscriber's socket.
 */
export function encodeTextFrame(payload: Buffer): Buffer {
  const length = payload.length
  const head = length < 126 ? 2 : length < 65_536 ? 4 : 10
  const frame = Buffer.allocUnsafe(head + length)
  frame[0] = FIN_TEXT
  if (length < 126) {
    frame[1] = length
  } else if (length < 65_536) {
    frame[1] = 126
    frame.writeUInt16BE(length, 2)
  } else {
    frame[1] = 127
    frame.writeUInt32BE(Math.floor(length / 2 ** 32), 2)
    frame.writeUInt32BE(length >>> 0, 6)
  }
  payload.copy(frame, head)
  return frame
}
