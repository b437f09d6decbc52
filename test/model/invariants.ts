/**
 * The invariants every model-based step checks, against what the core really holds (counted
 * timers, listeners and sockets), not against a re-implementation of it.
 */
import type { Connection } from '../../src/core/connection'
import type { ConnectionStatus } from '../../src/core/types'
import type { TrackedSocket, World } from './world'

const READY_STATE: Record<ConnectionStatus, number> = {
  idle: 3,
  connecting: 0,
  open: 1,
  closing: 2,
  reconnecting: 3,
  offline: 3,
  closed: 3,
  failed: 3,
}

function fail(message: string): never {
  throw new Error(`invariant: ${message}`)
}

function describe(connection: Connection): string {
  const { status, readyState, attempt, queued, dropped, nextRetryAt } = connection.state
  return `${connection.url} ${JSON.stringify({ status, readyState, attempt, queued, dropped, nextRetryAt })}`
}

/** Throws naming the first invariant that does not hold. */
export function checkInvariants(world: World<TrackedSocket>, timerCount: () => number, { real = false } = {}): void {
  const current = world.manager.connections
  let siteTimers = 0
  world.sites.forEach((site, index) => {
    const live = site.sockets.filter((socket) => socket.live)
    // At most one live socket per key.
    if (live.length > 1) fail(`${live.length} live sockets for site ${index}`)
    let connection: Connection | undefined
    for (const c of current.values()) if (world.records.get(c)?.site === index) connection = c
    const { timers, listeners } = site.env
    siteTimers += timers
    if (!connection) {
      if (live.length > 0) fail(`a live socket for site ${index} that no connection of the manager owns`)
      if (timers > 0 || listeners > 0) fail(`site ${index} without a connection holds ${timers} timers and ${listeners} listeners`)
      return
    }
    const { status, readyState, nextRetryAt } = connection.state
    // Status and readyState agree with the socket in hand.
    if (readyState !== READY_STATE[status]) fail(`readyState ${readyState} with status ${status}: ${describe(connection)}`)
    const expectsSocket = status === 'connecting' || status === 'open' || status === 'closing'
    if (expectsSocket !== (live.length === 1)) fail(`${live.length} live sockets with status ${status}: ${describe(connection)}`)
    // A real socket may already be CLOSING (the server's close frame arrived) before its close event.
    const closingEarly = real && status === 'open' && live[0]?.readyState === 2
    if (expectsSocket && live[0].readyState !== READY_STATE[status] && !closingEarly) {
      fail(`socket readyState ${live[0].readyState} with status ${status}: ${describe(connection)}`)
    }
    // No timer or listener left after close; exactly what each status needs otherwise.
    const bad = (why: string) => fail(`${why} (${timers} timers, ${listeners} listeners): ${describe(connection)}`)
    switch (status) {
      case 'closed':
      case 'failed':
        if (timers !== 0 || listeners !== 0) bad(`${status} holds timers or listeners`)
        break
      case 'closing':
        if (timers !== 1 || listeners !== 0) bad('closing holds more than its grace timer')
        break
      case 'idle':
        // Never opened (acquired with `open: false`), or closed by pagehide and listening for the pageshow that resumes it.
        if (timers !== 0 || listeners > 1) bad('idle holds timers')
        break
      case 'offline':
        if (timers !== 0 || listeners !== 1) bad('offline holds timers or not exactly one listener')
        if (world.browser.online) bad('offline while the browser is online')
        break
      case 'reconnecting': {
        const armed = world.browser.visible && world.browser.online
        if (listeners !== 1 || timers !== (armed ? 1 : 0) || (nextRetryAt !== null) !== armed) bad('reconnecting without exactly its retry')
        break
      }
      case 'connecting':
        if (timers !== 1 || listeners !== 1) bad('connecting without exactly its connect timeout')
        break
      case 'open':
        // The heartbeat's (when on), the minimum uptime, the drain poll, the counters' fold.
        if (timers > 4 || (connection.options.heartbeat !== false && timers < 1) || listeners !== 1) bad('open with an unexpected set of timers')
        break
    }
  })
  // The manager holds one idle timer per unheld connection, and nothing else.
  let unheld = 0
  for (const connection of current.values()) if (world.manager.refCount(connection) === 0) unheld++
  if (world.managerEnv.timers > unheld || world.managerEnv.listeners !== 0) {
    fail(`the manager holds ${world.managerEnv.timers} timers for ${unheld} unheld connections`)
  }
  // No timer outside the injected environments (fake timers count them all).
  const total = timerCount()
  if (!real && total !== siteTimers + world.managerEnv.timers) fail(`${total} timers exist, ${siteTimers + world.managerEnv.timers} through the environments`)

  checkSends(world)
  for (const [connection, record] of world.records) {
    const { state } = connection
    // A user close sticks: no socket is created afterwards until the user opens again.
    if (record.userClosed) {
      if (state.status !== 'closed' && state.status !== 'closing') fail(`user-closed connection is ${state.status}: ${describe(connection)}`)
      const sockets = world.sites[record.site].sockets.length
      if (current.get(connection.key) === connection && sockets !== record.socketsAtClose) {
        fail(`${sockets - record.socketsAtClose} socket(s) created after a user close: ${describe(connection)}`)
      }
    }
    // A connection the manager forgot is disposed: closed for good.
    if (current.get(connection.key) !== connection && state.status !== 'closed') fail(`forgotten connection is ${state.status}: ${describe(connection)}`)
  }
}

/**
 * Every message of `send` and `sendFrame` in `world.records`: 'sent' written once, 'dropped'
 * never, 'queued' written at most once or counted as dropped; every frame settled at most once,
 * and as it went.
 */
export function checkSends(world: Pick<World<TrackedSocket>, 'sites' | 'records'>): void {
  const writes = new Map<string, number>()
  for (const site of world.sites) {
    for (const socket of site.sockets) {
      for (const frame of socket.sent) {
        if (typeof frame !== 'string' || frame[0] !== '{') continue
        const { m, f } = JSON.parse(frame) as { m?: string; f?: string }
        const id = (m ?? f)!
        writes.set(id, (writes.get(id) ?? 0) + 1)
      }
    }
  }
  for (const [id, count] of writes) if (count > 1) fail(`message ${id} written ${count} times`)
  for (const [connection, record] of world.records) {
    let queued = 0
    let dropped = 0
    let writtenQueued = 0
    for (const send of record.sends) {
      const written = writes.get(send.id) ?? 0
      if (send.result === 'sent' && written !== 1) fail(`'sent' message ${send.id} written ${written} times`)
      if (send.result === 'dropped' && written !== 0) fail(`'dropped' message ${send.id} was written`)
      if (send.result === 'queued') {
        queued++
        writtenQueued += written
      }
      if (send.result === 'dropped') dropped++
    }
    // Every frame of sendFrame: written at most once; settled at most once, and as it went.
    for (const frame of record.frames) {
      const written = writes.get(frame.id) ?? 0
      if (frame.settled.length > 1) fail(`frame ${frame.id} settled ${frame.settled.length} times`)
      if (frame.settled.length === 1 && frame.settled[0] !== (written === 1)) fail(`frame ${frame.id} settled ${frame.settled[0]} but written ${written} times`)
      if (frame.settled.length === 0 && written !== 0) fail(`frame ${frame.id} written but not settled`)
      if (frame.settled.length === 0 && connection.state.status !== 'open') fail(`frame ${frame.id} still waits on a ${connection.state.status} connection`)
    }
    const { state } = connection
    if (queued + dropped !== writtenQueued + state.queued + state.dropped) {
      fail(
        `message accounting: ${queued} queued + ${dropped} dropped results ≠ ${writtenQueued} written + ${state.queued} in the queue + ${state.dropped} counted dropped: ${describe(connection)}`,
      )
    }
  }
}
