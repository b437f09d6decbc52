/**
 * Publishes against the real server (issue 14 bugs 10 and 11): a re-publish with a pending id
 * joins the first, and an ephemeral publish is written at most once.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { Connection } from '../../src/core/connection'
import { createManualEnvironment } from '../../src/core/environment'
import { mergeOptions } from '../../src/core/manager'
import { ProtocolClient, protocolConnectionOptions } from '../../src/core/protocolClient'
import { createFaultProxy } from '../support/proxy'
import { waitFor } from '../support/wait'
import { createRig, engineAway, NodeWebSocket } from './helpers'

const rig = createRig()
afterEach(() => rig.cleanup())

describe('publish', () => {
  it('a re-publish with a pending id settles with the ack, whatever the first call\'s timeout did (bug 10)', async () => {
    const server = await rig.startServer()
    const proxy = await createFaultProxy({ target: { port: server.port } })
    rig.defer(() => proxy.close())
    const c = rig.client(proxy.url())
    c.open()
    await waitFor(() => c.connection.state.status === 'open')
    proxy.blackhole()
    const first = c.protocol.publish('room:dup', 'hello', { id: 'same', timeout: 100 })
    const second = c.protocol.publish('room:dup', 'hello', { id: 'same', timeout: 4_000 })
    await expect(first).rejects.toMatchObject({ code: 'timeout' })
    proxy.resume()
    await expect(second).resolves.toMatchObject({ id: 'same', seq: 1 })
    expect(server.topics()).toEqual([])
  })

  it('the same id on another topic while pending is refused with a clear error, and loses nothing', async () => {
    const server = await rig.startServer()
    const c = rig.client(server.url)
    c.open()
    const first = c.protocol.publish('room:one', 'a', { id: 'shared' })
    await expect(c.protocol.publish('room:two', 'b', { id: 'shared' })).rejects.toThrow(/"shared" is already waiting for an ack on "room:one"/)
    await expect(first).resolves.toMatchObject({ id: 'shared', seq: 1 })
  })

  it('an ephemeral publish whose ack was lost is not resent: delivered once, and the caller is told (bug 11)', async () => {
    const server = await rig.startServer()
    const proxy = await createFaultProxy({ target: { port: server.port } })
    rig.defer(() => proxy.close())
    const watcher = rig.client(server.url)
    watcher.open()
    const seen = watcher.watch('room:typing')
    await waitFor(() => seen.joins.length === 1)

    const typist = rig.client(proxy.url())
    const written: string[] = []
    typist.connection.on('frameOut', ({ data }) => {
      if (typeof data === 'string' && data.includes('"publish"')) written.push(data)
    })
    typist.open()
    await waitFor(() => typist.protocol.clientId !== null)
    // The publish goes up; the ack coming down is cut after one byte.
    proxy.resetAfter(1)
    const typing = typist.protocol.publish('room:typing', { typing: true }, { id: 't-1', ephemeral: true })
    await expect(typing).rejects.toMatchObject({ code: 'connection_lost' })
    await waitFor(() => typist.connection.state.status === 'open')
    await waitFor(() => seen.messages.length === 1)
    // A round trip on the reopened link: a resend would have been handled by now.
    await typist.protocol.publish('room:typing', 'stored', { id: 's-1' })
    await waitFor(() => seen.messages.length === 2)
    expect(seen.messages.map((m) => m.id)).toEqual(['t-1', 's-1'])
    expect(written.filter((f) => f.includes('"t-1"'))).toHaveLength(1)
  })

  it('an ephemeral publish made while the link is down is sent once it opens', async () => {
    const server = await rig.startServer()
    const watcher = rig.client(server.url)
    watcher.open()
    const seen = watcher.watch('room:cursor')
    await waitFor(() => seen.joins.length === 1)
    const c = rig.client(server.url)
    const moved = c.protocol.publish('room:cursor', { x: 1 }, { ephemeral: true })
    c.open()
    await expect(moved).resolves.toMatchObject({ type: 'ack' })
    await waitFor(() => seen.messages.length === 1)
    expect(seen.messages[0]).toMatchObject({ ephemeral: true, data: { x: 1 } })
  })

  it('a publish right after the clock jumped on an open link (a laptop waking) is written after the probe and acked (bug 1; model counterexample)', async () => {
    const server = await rig.startServer()
    let offset = 0
    const env = createManualEnvironment({ now: () => Date.now() + offset })
    const c = rig.client(server.url, { environment: env, heartbeat: { interval: 500, timeout: 1_000 } })
    c.open()
    await waitFor(() => c.protocol.clientId !== null)
    offset += 40_000
    await expect(c.protocol.publish('room:wake', 'after sleep', { timeout: 3_000 })).resolves.toMatchObject({ seq: 1 })
    expect(c.connection.state.status).toBe('open')
  })

  it('a client made for a connection already open still tells a request in flight that its socket was lost', async () => {
    const server = await rig.startServer({ onRequest: { never: () => new Promise(() => {}) } })
    const proxy = await createFaultProxy({ target: { port: server.port } })
    rig.defer(() => proxy.close())
    const connection = new Connection(proxy.url(), mergeOptions(protocolConnectionOptions, { WebSocket: NodeWebSocket, reconnect: { minDelay: 20, maxDelay: 200 } }))
    rig.defer(() => connection.dispose())
    connection.open()
    await waitFor(() => connection.state.status === 'open')
    const client = ProtocolClient.for(connection)
    const asked = client.request('never', null, { timeout: 10_000 }).catch((error: { code?: string }) => error.code)
    await waitFor(() => server.clients.size === 1)
    proxy.cut()
    expect(await asked).toBe('connection_lost')
  })

  describe('refused for now ("retry later": the server\'s store is away)', () => {
    /** A server whose store can be away, a client open on it, and the `internal` refusals it got. */
    async function storeAway() {
      const { engine, away } = engineAway()
      const server = await rig.startServer({ engine })
      server.on('error', () => {}) // the store's failures are reported; expected here
      const c = rig.client(server.url)
      c.open()
      await waitFor(() => c.connection.state.status === 'open')
      const refusals: string[] = []
      c.connection.on('message', (data) => typeof data === 'string' && data.includes('"internal"') && refusals.push(data))
      return { server, away, c, refusals }
    }
    it('a stored publish is written again after a backoff until it is acked, once, under one seq', async () => {
      const { server, away, c, refusals } = await storeAway()
      const stored: unknown[] = []
      server.on('publish', (m) => stored.push(m.data))
      away.publish = true
      const acked = c.protocol.publish('room:later', 'kept', { id: 'kept-1', timeout: 10_000 })
      await waitFor(() => refusals.length >= 1, { message: 'the first refusal' })
      away.publish = false
      await expect(acked).resolves.toMatchObject({ id: 'kept-1', seq: 1 })
      expect(stored).toEqual(['kept'])
      expect(c.protocol.pendingCount).toBe(0)
    })

    it('publishes refused for now, and those made while they wait, are stored in the order they were made', async () => {
      const { away, c, refusals } = await storeAway()
      away.publish = true
      const first = ['a', 'b', 'c', 'd'].map((text) => c.protocol.publish('room:order', text, { id: text, timeout: 15_000 }))
      await waitFor(() => refusals.length === 4, { message: 'all four refused' })
      away.publish = false
      // Made while the refused ones wait for their retry: it goes after them.
      const later = c.protocol.publish('room:order', 'e', { id: 'e', timeout: 15_000 })
      const acks = await Promise.all([...first, later])
      expect(acks.map((ack) => [ack.id, ack.seq])).toEqual([
        ['a', 1],
        ['b', 2],
        ['c', 3],
        ['d', 4],
        ['e', 5],
      ])
    })

    it('one refused until its timeout rejects with the refusal (not a bare timeout); an ephemeral one is refused at once', async () => {
      const { away, c } = await storeAway()
      away.publish = true
      await expect(c.protocol.publish('room:later', 'x', { ephemeral: true })).rejects.toMatchObject({ code: 'internal' })
      const refused = c.protocol.publish('room:later', 'never', { id: 'never-1', timeout: 1_500 })
      await expect(refused).rejects.toMatchObject({ code: 'internal', message: expect.stringMatching(/not accepted within 1500 ms; retry later with the same id/) })
      expect(c.protocol.pendingCount).toBe(0)
    })
  })
})
