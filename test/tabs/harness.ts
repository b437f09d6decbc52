/**
 * Several simulated tabs of one browser profile in one process: each tab has its own manual
 * environment (visibility, lifecycle events, pause, crash) and its own manager; all share the
 * profile's in-memory locks and channels, and FakeWebSocket counts the sockets.
 */
import { vi } from 'vitest'
import { ConnectionManager, createManualEnvironment, MemoryProfile, tabSharing, type Connection, type ConnectionOptions, type ManualEnvironment } from '../../src/core'
import { FakeWebSocket } from '../core/fakeSocket'

export const URL = 'ws://127.0.0.1:1/socket'

export interface Tab {
  env: ManualEnvironment
  manager: ConnectionManager
  connection: Connection
  /** Every message delivered to this tab's consumer, in order. */
  messages: unknown[]
  closes: number[]
  opens: number
  errors: string[]
  /** Releases the consumer (the manager then drops the connection). */
  release(): void
}

export class Browser {
  readonly profile = new MemoryProfile()
  readonly tabs: Tab[] = []

  constructor(readonly defaults: ConnectionOptions = {}) {}

  /** Opens a tab whose consumer acquires `url`. */
  open(options: ConnectionOptions = {}, url = URL): Tab {
    const env = createManualEnvironment({ random: () => 0.5 }, this.profile)
    const manager = new ConnectionManager({
      WebSocket: FakeWebSocket,
      heartbeat: false,
      idleTimeout: 0,
      shareAcrossTabs: tabSharing(),
      environment: env,
      ...this.defaults,
    })
    const connection = manager.acquire(url, options)
    const tab: Tab = {
      env,
      manager,
      connection,
      messages: [],
      closes: [],
      opens: 0,
      errors: [],
      release: () => manager.release(connection),
    }
    connection.on('message', (m) => tab.messages.push(m))
    connection.on('close', (info) => tab.closes.push(info.code))
    connection.on('open', () => tab.opens++)
    connection.on('error', (e) => tab.errors.push(e.message))
    this.tabs.push(tab)
    return tab
  }

  leader(): Tab {
    const leaders = this.tabs.filter((t) => !t.env.tab.crashed && t.connection.state.role === 'leader')
    if (leaders.length !== 1) throw new Error(`expected one leader, found ${leaders.length}`)
    return leaders[0]
  }

  /** Open sockets (constructed, not closed or terminated). */
  static openSockets(): FakeWebSocket[] {
    return FakeWebSocket.instances.filter((s) => s.readyState < 2 && !s.terminated)
  }
}

/**
 * Advances the clock by `ms`, then lets chains of tasks (channel deliveries, lock grants) run:
 * the fake clock runs a task queued by a task 1 ms later, so this steps 1 ms at a time.
 */
export async function settle(ms = 0): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms)
  for (let i = 0; i < 20; i++) await vi.advanceTimersByTimeAsync(1)
}

/** Accepts the one open socket that is still connecting. */
export function acceptSocket(): FakeWebSocket {
  const connecting = Browser.openSockets().filter((s) => s.readyState === 0 && !s.closedWith)
  if (connecting.length !== 1) throw new Error(`expected one connecting socket, found ${connecting.length}`)
  return connecting[0].accept()
}
