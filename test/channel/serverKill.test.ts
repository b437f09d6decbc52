import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { Connection } from '../../src/core/connection'
import { mergeOptions } from '../../src/core/manager'
import { ProtocolClient, protocolConnectionOptions } from '../../src/core/protocolClient'
import type { AckFrame, MessageFrame } from '../../src/core/protocol'
import type { ConnectionOptions } from '../../src/core/types'
import { killServerProcesses, startServerProcess } from '../support/serverProcess'
import { waitFor } from '../support/wait'

/** The server runs in a child process so it can be killed with SIGKILL: no close frames, no flush, no checkpoint. */
const cleanups: (() => unknown)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup()
  await killServerProcesses()
})

function client(url: string) {
  const connection = new Connection(
    url,
    mergeOptions(protocolConnectionOptions, {
      WebSocket: WebSocket as unknown as ConnectionOptions['WebSocket'],
      reconnect: { minDelay: 50, maxDelay: 300 },
    }),
  )
  cleanups.push(() => connection.dispose())
  const protocol = ProtocolClient.for(connection)
  const received: MessageFrame[] = []
  let joins = 0
  protocol.subscribe('room:kill', { message: (m) => received.push(m), subscribed: () => joins++ })
  connection.open()
  return { connection, protocol, received, joins: () => joins }
}

describe('a server on SQLite (dataDir) killed with SIGKILL and restarted', () => {
  it('loses nothing it acked and shows every message exactly once, in order, in the same epoch', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'vue-realtime-kill-data-'))
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }))
    const first = await startServerProcess({ dataDir })
    const url = `ws://127.0.0.1:${first.port}/`
    const a = client(url)
    const b = client(url)
    await waitFor(() => a.joins() === 1 && b.joins() === 1)

    const publishes: Promise<AckFrame>[] = []
    const publishRound = (from: number, to: number) => {
      for (let i = from; i < to; i++) {
        publishes.push(a.protocol.publish('room:kill', { from: 'a', i }, { timeout: 20_000 }))
        publishes.push(b.protocol.publish('room:kill', { from: 'b', i }, { timeout: 20_000 }))
      }
    }
    publishRound(0, 10)
    await Promise.all(publishes)
    publishRound(10, 15) // in flight when the kill lands: some acked, some not
    await first.kill()
    await waitFor(() => a.connection.state.status !== 'open' && b.connection.state.status !== 'open')
    publishRound(15, 20) // while the server is down
    const second = await startServerProcess({ dataDir, port: first.port })
    const acks = await Promise.all(publishes)
    await waitFor(() => a.received.length >= 40 && b.received.length >= 40, { timeout: 15_000 })

    // One epoch before and after the kill (it lives in the file): every acked seq is the seq delivered.
    const epoch = acks[0].epoch
    expect(new Set(acks.map((ack) => ack.epoch))).toEqual(new Set([epoch]))
    expect(acks.map((ack) => ack.seq).sort((x, y) => x! - y!)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1))
    for (const { received } of [a, b]) {
      expect(new Set(received.map((m) => m.epoch))).toEqual(new Set([epoch]))
      expect(received.map((m) => m.seq)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1))
      for (const who of ['a', 'b']) {
        const mine = received.map((m) => m.data as { from: string; i: number }).filter((d) => d.from === who)
        expect(mine.map((d) => d.i)).toEqual(Array.from({ length: 20 }, (_, i) => i))
      }
    }
    // The restarted server numbers on in the same epoch.
    const late = client(`ws://127.0.0.1:${second.port}/`)
    await waitFor(() => late.joins() === 1)
    expect(await late.protocol.publish('room:kill', { from: 'late', i: 0 }, { timeout: 20_000 })).toMatchObject({ seq: 41, epoch })
  })
})
