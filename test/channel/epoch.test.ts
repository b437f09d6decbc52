/**
 * The client side of topic epochs (issue 9, docs/protocol.md "Epochs"): against a scripted `ws`
 * server that plays the server's part frame by frame, then against the real server. The client
 * resumes with `since` and `epoch`, and a changed epoch is always reported (`recovered` false,
 * `gap`), never skipped.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket, WebSocketServer } from 'ws'
import { PROTOCOL } from '../../src/core/protocol'
import { createFaultProxy } from '../support/proxy'
import { once, waitFor } from '../support/wait'
import { createRig } from './helpers'

const rig = createRig()
afterEach(() => rig.cleanup())

type Frame = Record<string, unknown> & { type: string }

/** A server that welcomes every client and lets the test answer each frame itself. */
async function scriptedServer() {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: (p) => (p.has(PROTOCOL) ? PROTOCOL : false) })
  await once(wss, 'listening')
  const received: Frame[] = []
  let socket: WebSocket | null = null
  let connections = 0
  wss.on('connection', (ws) => {
    connections++
    socket = ws
    ws.on('message', (data) => {
      const text = String(data)
      if (text.startsWith('{')) received.push(JSON.parse(text) as Frame)
    })
    ws.send(JSON.stringify({ type: 'welcome', protocol: PROTOCOL, clientId: `c${connections}`, heartbeat: 25_000 }))
  })
  rig.defer(async () => {
    for (const ws of wss.clients) ws.terminate()
    await new Promise<void>((resolve) => wss.close(() => resolve()))
  })
  const port = (wss.address() as AddressInfo).port
  return {
    url: `ws://127.0.0.1:${port}/`,
    received,
    connections: () => connections,
    send: (...frames: object[]) => {
      for (const frame of frames) socket!.send(JSON.stringify(frame))
    },
    /** Resolves with the `n`-th (1-based) frame of `type` the client sent. */
    nth: (type: string, n: number) => waitFor(() => received.filter((f) => f.type === type)[n - 1], { message: `client frame ${type} #${n}` }),
    drop: () => socket!.terminate(),
  }
}

const message = (seq: number, epoch?: string) => ({
  type: 'message',
  topic: 'room:e',
  seq,
  ...(epoch !== undefined ? { epoch } : {}),
  id: `m${seq}${epoch ?? ''}`,
  data: seq,
  from: 'server',
  ts: 1,
})
const subscribed = (seq: number, recovered: boolean, epoch?: string) => ({
  type: 'subscribed',
  topic: 'room:e',
  seq,
  ...(epoch !== undefined ? { epoch } : {}),
  recovered,
  presence: [],
})

async function joined(server: Awaited<ReturnType<typeof scriptedServer>>, epoch?: string) {
  const c = rig.client(server.url)
  const watcher = c.watch('room:e', 10)
  c.open()
  expect(await server.nth('subscribe', 1)).toEqual({ type: 'subscribe', topic: 'room:e', history: 10 })
  server.send(message(1, epoch), message(2, epoch), subscribed(2, true, epoch))
  await waitFor(() => watcher.joins.length === 1)
  return { c, watcher }
}

describe('epochs', () => {
  it('tracks the epoch and resumes with since and epoch', async () => {
    const server = await scriptedServer()
    const { c, watcher } = await joined(server, 'e1')
    server.send(message(3, 'e1'))
    await waitFor(() => watcher.messages.length === 3)
    expect(c.protocol.epoch('room:e')).toBe('e1')
    server.drop()
    expect(await server.nth('subscribe', 2)).toEqual({ type: 'subscribe', topic: 'room:e', since: 3, epoch: 'e1' })
    server.send(message(4, 'e1'), subscribed(4, true, 'e1'))
    await waitFor(() => watcher.joins.length === 2)
    expect(watcher.joins[1].recovered).toBe(true)
    expect(watcher.seqs()).toEqual([1, 2, 3, 4])
    expect(watcher.gaps).toEqual([])
  })

  it('a resume answered in another epoch is a gap, even if the server claims it recovered', async () => {
    const server = await scriptedServer()
    const { c, watcher } = await joined(server, 'e1')
    server.drop()
    await server.nth('subscribe', 2)
    // A stray frame of the new numbering before the answer is not shown as a resumed message.
    server.send(message(1, 'e2'), subscribed(5, true, 'e2'))
    await waitFor(() => watcher.joins.length === 2)
    expect(watcher.joins[1]).toMatchObject({ recovered: false, epoch: 'e2', seq: 5 })
    expect(watcher.gaps).toEqual([{ topic: 'room:e', since: 2, head: 5, epoch: 'e2' }])
    expect(watcher.seqs()).toEqual([1, 2])
    // The client goes on in the new epoch from its head.
    server.send(message(6, 'e2'))
    await waitFor(() => watcher.messages.length === 3)
    expect(c.protocol.epoch('room:e')).toBe('e2')
    expect(c.protocol.lastSeq('room:e')).toBe(6)
  })

  it('a live message of a new epoch is a gap; the client follows the new numbering from it', async () => {
    const server = await scriptedServer()
    const { c, watcher } = await joined(server, 'e1')
    server.send(message(3, 'e2'))
    await waitFor(() => watcher.gaps.length === 1)
    expect(watcher.gaps[0]).toEqual({ topic: 'room:e', since: 2, head: 3, epoch: 'e2' })
    server.send(message(4, 'e2'))
    await waitFor(() => watcher.messages.length === 4)
    expect(watcher.seqs()).toEqual([1, 2, 3, 4])
    expect(watcher.messages.slice(2).map((m) => m.epoch)).toEqual(['e2', 'e2'])
    expect(c.protocol.epoch('room:e')).toBe('e2')
    // The next resume is in the new epoch.
    server.drop()
    expect(await server.nth('subscribe', 2)).toEqual({ type: 'subscribe', topic: 'room:e', since: 4, epoch: 'e2' })
  })

  it('an ack in a new epoch makes the client resume', async () => {
    const server = await scriptedServer()
    const { c, watcher } = await joined(server, 'e1')
    const acked = c.protocol.publish('room:e', 'x', { id: 'p1' })
    await server.nth('publish', 1)
    server.send({ type: 'ack', id: 'p1', seq: 1, epoch: 'e9' })
    await expect(acked).resolves.toMatchObject({ seq: 1, epoch: 'e9' })
    expect(await server.nth('subscribe', 2)).toEqual({ type: 'subscribe', topic: 'room:e', since: 2, epoch: 'e1' })
    server.send(message(1, 'e9'), subscribed(1, false, 'e9'))
    await waitFor(() => watcher.gaps.length === 1)
    expect(c.protocol.epoch('room:e')).toBe('e9')
  })

  it('a hole in the live stream makes the client resume and fill it from the replay', async () => {
    const server = await scriptedServer()
    const { watcher } = await joined(server, 'e1')
    server.send(message(4, 'e1'))
    expect(await server.nth('subscribe', 2)).toEqual({ type: 'subscribe', topic: 'room:e', since: 2, epoch: 'e1' })
    server.send(message(3, 'e1'), message(4, 'e1'), subscribed(4, true, 'e1'))
    await waitFor(() => watcher.messages.length === 4)
    expect(watcher.seqs()).toEqual([1, 2, 3, 4])
    expect(watcher.gaps).toEqual([])
  })

  it('works with a server that sends no epoch (older servers)', async () => {
    const server = await scriptedServer()
    const { c, watcher } = await joined(server)
    expect(c.protocol.epoch('room:e')).toBeUndefined()
    server.drop()
    expect(await server.nth('subscribe', 2)).toEqual({ type: 'subscribe', topic: 'room:e', since: 2 })
    server.send(message(3), subscribed(3, true))
    await waitFor(() => watcher.joins.length === 2)
    expect(watcher.seqs()).toEqual([1, 2, 3])
    expect(watcher.gaps).toEqual([])
    // An older server that lost its history answers with a lower head: a gap, and the client follows it.
    server.drop()
    expect(await server.nth('subscribe', 3)).toEqual({ type: 'subscribe', topic: 'room:e', since: 3 })
    server.send(subscribed(0, false))
    await waitFor(() => watcher.gaps.length === 1)
    expect(watcher.gaps[0]).toEqual({ topic: 'room:e', since: 3, head: 0 })
    server.send(message(1))
    await waitFor(() => watcher.messages.length === 4)
  })
})

describe('epochs against the real server', () => {
  it('a memory server that restarted numbers the topic in a new epoch: the resume is a gap, never a continuation', async () => {
    const first = await rig.startServer()
    const port = first.port
    const proxy = await createFaultProxy({ target: { port } })
    rig.defer(() => proxy.close())
    const c = rig.client(proxy.url())
    const watcher = c.watch('room:restart', 10)
    c.open()
    await waitFor(() => watcher.joins.length === 1)
    await first.publish('room:restart', 'old 1')
    await waitFor(() => watcher.messages.length === 1)
    const oldEpoch = c.protocol.epoch('room:restart')
    expect(oldEpoch).toBeTypeOf('string')

    // Down, restarted empty, and three messages in before the client is back.
    await proxy.refuse(true)
    await first.close({ code: 1012, timeout: 200 })
    await waitFor(() => c.connection.state.status !== 'open')
    const second = await rig.startServer({ port })
    for (const text of ['new 1', 'new 2', 'new 3']) await second.publish('room:restart', text)
    await proxy.refuse(false)

    await waitFor(() => watcher.joins.length === 2)
    expect(watcher.joins[1]).toMatchObject({ recovered: false, seq: 3 })
    expect(watcher.joins[1].epoch).not.toBe(oldEpoch)
    expect(watcher.gaps).toEqual([{ topic: 'room:restart', since: 1, head: 3, epoch: watcher.joins[1].epoch }])
    // Nothing of the new numbering was shown as if it followed the old one.
    expect(watcher.messages.map((m) => m.data)).toEqual(['old 1'])
    await second.publish('room:restart', 'new 4')
    await waitFor(() => watcher.messages.length === 2)
    expect(watcher.messages[1]).toMatchObject({ data: 'new 4', seq: 4, epoch: watcher.joins[1].epoch })
    expect(c.protocol.epoch('room:restart')).toBe(watcher.joins[1].epoch)
  })

  it('resumes with since and epoch, and a persistent server answers in the same epoch with the replay', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'vue-realtime-epoch-'))
    rig.defer(() => rmSync(dataDir, { recursive: true, force: true }))
    const first = await rig.startServer({ dataDir })
    const port = first.port
    const c = rig.client(first.url)
    const sent: string[] = []
    c.connection.on('frameOut', ({ data }) => typeof data === 'string' && data.includes('"subscribe"') && sent.push(data))
    const watcher = c.watch('room:kept', 10)
    c.open()
    await waitFor(() => watcher.joins.length === 1)
    await first.publish('room:kept', 1)
    await waitFor(() => watcher.messages.length === 1)
    const epoch = c.protocol.epoch('room:kept')
    await first.close({ code: 1012, timeout: 200 })
    await waitFor(() => c.connection.state.status !== 'open')
    const second = await rig.startServer({ dataDir, port })
    await second.publish('room:kept', 2)
    await waitFor(() => watcher.joins.length === 2 && watcher.messages.length === 2)
    expect(JSON.parse(sent[1])).toEqual({ type: 'subscribe', topic: 'room:kept', since: 1, epoch })
    expect(watcher.joins[1]).toMatchObject({ recovered: true, epoch })
    expect(watcher.seqs()).toEqual([1, 2])
    expect(watcher.gaps).toEqual([])
  })
})
