import type { Duplex } from 'node:stream'
import type { RealtimeServerOptions } from './types'

const PREFIX = '[vue-realtime/server]'

export const UPGRADE_DEFAULTS = {
  /** A browser completes a handshake in milliseconds; ten seconds leaves room for a slow link and `authenticate`. */
  handshakeTimeout: 10_000,
  /** Half the handshake timeout, so a slow `authenticate` ends in a 4401 the client can read, not a dropped socket. */
  authenticateTimeout: 5_000,
  /** A restart's reconnect wave stays well below this; each pending socket holds at most a 16 KiB header buffer. */
  maxPendingUpgrades: 1_000,
} as const

/** Longest delay `setTimeout` honours; beyond it Node fires after 1 ms. */
const MAX_TIMER = 2 ** 31 - 1

export interface UpgradeLimits {
  handshakeTimeout: number
  authenticateTimeout: number
  maxPendingUpgrades: number
}

function limit(name: keyof UpgradeLimits, value: number | undefined, integer = false): number {
  const result = value ?? UPGRADE_DEFAULTS[name]
  if (typeof result !== 'number' || !(result > 0) || result > MAX_TIMER || (integer && !Number.isInteger(result))) {
    throw new TypeError(`${PREFIX} option "${name}" must be a positive ${integer ? 'integer' : 'number of ms'} up to ${MAX_TIMER}, got ${String(value)}.`)
  }
  return result
}

export function resolveUpgradeLimits<User>(options: RealtimeServerOptions<User>): UpgradeLimits {
  return {
    handshakeTimeout: limit('handshakeTimeout', options.handshakeTimeout),
    authenticateTimeout: limit('authenticateTimeout', options.authenticateTimeout),
    maxPendingUpgrades: limit('maxPendingUpgrades', options.maxPendingUpgrades, true),
  }
}

/** Ends a raw socket with an HTTP status (no WebSocket yet). */
export function refuse(socket: Duplex, status: number, text: string): void {
  if (socket.writable) socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
  socket.destroy()
}

interface Pending {
  readonly timer: ReturnType<typeof setTimeout>
  readonly controller: AbortController
  readonly onClose: () => void
}

/**
 * Sockets on their way to becoming WebSockets. Each one has a deadline (`handshakeTimeout`)
 * and an abort signal for the work done on its behalf (`authenticate`); their number is capped
 * (`maxPendingUpgrades`), and beyond the cap a new socket is refused at once. This class owns
 * every timer it starts: `settle` or `destroyAll` clears them.
 */
export class PendingUpgrades {
  readonly #pending = new Map<Duplex, Pending>()
  #lastFullReport = -Infinity

  constructor(
    private readonly limits: UpgradeLimits,
    private readonly now: () => number,
    /** Told when the cap is reached (at most once per `handshakeTimeout`). */
    private readonly report: (error: Error) => void,
  ) {}

  get size(): number {
    return this.#pending.size
  }

  /**
   * Starts the socket's handshake clock (once: a tracked socket keeps its first deadline) and
   * returns the signal that aborts when the clock runs out, the socket closes or the server
   * closes. Returns null when the cap is reached: the socket was refused with 503.
   */
  track(socket: Duplex): AbortSignal | null {
    const known = this.#pending.get(socket)
    if (known) return known.controller.signal
    if (this.#pending.size >= this.limits.maxPendingUpgrades) {
      refuse(socket, 503, 'Service Unavailable')
      this.#full()
      return null
    }
    const controller = new AbortController()
    const timer = setTimeout(() => {
      this.settle(socket, 'handshake timeout')
      refuse(socket, 408, 'Request Timeout')
    }, this.limits.handshakeTimeout)
    const onClose = (): void => this.settle(socket, 'socket closed')
    socket.once('close', onClose)
    this.#pending.set(socket, { timer, controller, onClose })
    return controller.signal
  }

  /**
   * The socket became a WebSocket or was refused: its clock stops and the socket is left
   * alone. With a `reason`, work still running for it (`authenticate`) is aborted.
   */
  settle(socket: Duplex, reason?: string): void {
    const entry = this.#pending.get(socket)
    if (!entry) return
    this.#pending.delete(socket)
    clearTimeout(entry.timer)
    socket.off('close', entry.onClose)
    if (reason) entry.controller.abort(new Error(reason))
  }

  /** Said once per handshake window: the cap is hit under a flood, and a log line per refusal would be one too. */
  #full(): void {
    if (this.now() - this.#lastFullReport < this.limits.handshakeTimeout) return
    this.#lastFullReport = this.now()
    this.report(
      new Error(
        `${this.#pending.size} upgrades are pending, the "maxPendingUpgrades" cap: new connections are refused with 503 until some complete or time out. Raise it if this is your normal load.`,
      ),
    )
  }

  /** Ends every pending upgrade (server closing). */
  destroyAll(): void {
    for (const socket of [...this.#pending.keys()]) {
      this.settle(socket, 'server closing')
      socket.destroy()
    }
  }
}
