// @vitest-environment happy-dom
/**
 * Tokens and refusals for channels, against the real server with `authenticate` reading the
 * token subprotocol (issue 8 points 4 and 5): the token is added to the protocol's own
 * subprotocol, read again on every attempt, and a refusal shows in `error` and `lastClose`.
 */
import type { IncomingMessage } from 'node:http'
import { mount } from '@vue/test-utils'
import { afterEach, describe, expect, it } from 'vitest'
import { defineComponent, h, ref } from 'vue'
import { PROTOCOL } from '../../src/core/protocol'
import { createRealtimeServer, type RealtimeServer } from '../../src/server'
import { readToken } from '../../src/server/gate'
import { createRealtime, type RealtimeOptions } from '../../src/vue/plugin'
import { useChannel, type UseChannelOptions, type UseChannelReturn } from '../../src/vue/useChannel'
import { createFaultProxy } from '../support/proxy'
import { waitFor } from '../support/wait'
import { NodeWebSocket } from './helpers'

const cleanups: (() => unknown)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** A server that accepts the tokens in `valid`, and records every token and subprotocol list it was offered. */
async function authServer(valid: Set<string>) {
  const offered: { token: string | undefined; protocols: string[] | undefined }[] = []
  const server = createRealtimeServer({
    port: 0,
    host: '127.0.0.1',
    authenticate: (req: IncomingMessage) => {
      const token = readToken(req)
      offered.push({ token, protocols: req.headers['sec-websocket-protocol']?.split(/,\s*/) })
      return token !== undefined && valid.has(token) ? { token } : null
    },
  })
  await server.ready
  cleanups.push(() => server.close({ timeout: 200 }))
  return { server, offered }
}

function mountChannel(url: string, channelOptions: UseChannelOptions<string>, appOptions: RealtimeOptions = {}) {
  let channel!: UseChannelReturn<string>
  const plugin = createRealtime({
    url,
    WebSocket: NodeWebSocket,
    reconnect: { minDelay: 20, maxDelay: 200 },
    idleTimeout: 0,
    devtools: false,
    ...appOptions,
  })
  const wrapper = mount(
    defineComponent({
      setup() {
        channel = useChannel<string>('room:auth', channelOptions)
        return () => h('div')
      },
    }),
    { global: { plugins: [plugin] } },
  )
  cleanups.push(() => wrapper.unmount())
  return channel
}

const joined = (server: RealtimeServer) => [...server.clients.values()].map((c) => c.user)

describe('useChannel tokens', () => {
  it('sends the `token` option as a second subprotocol after the protocol\'s own', async () => {
    const { server, offered } = await authServer(new Set(['t-1']))
    const channel = mountChannel(server.url, { token: 't-1' })
    await waitFor(() => channel.subscribed.value)
    expect(offered).toEqual([{ token: 't-1', protocols: [PROTOCOL, 'vue-realtime.token.t-1'] }])
    expect(joined(server)).toEqual([{ token: 't-1' }])
  })

  it('takes the token from createRealtime({ token }) too, a ref read again on every attempt', async () => {
    const valid = new Set(['app-1'])
    const { server, offered } = await authServer(valid)
    const token = ref('app-1')
    const channel = mountChannel(server.url, {}, { token })
    await waitFor(() => channel.subscribed.value)
    valid.add('app-2')
    token.value = 'app-2'
    channel.reconnect()
    await waitFor(() => offered.length === 2 && channel.subscribed.value)
    expect(offered.map((o) => o.token)).toEqual(['app-1', 'app-2'])
  })

  it("a user's protocols never remove the protocol's own", async () => {
    const { server, offered } = await authServer(new Set(['x']))
    const channel = mountChannel(server.url, { connection: { protocols: ['vue-realtime.token.x'] } })
    await waitFor(() => channel.subscribed.value)
    expect(offered[0].protocols).toEqual([PROTOCOL, 'vue-realtime.token.x'])
  })

  it('reads a getter again on every attempt: a refreshed token is used after a reconnect', async () => {
    const valid = new Set(['first'])
    const { server, offered } = await authServer(valid)
    const proxy = await createFaultProxy({ target: { port: server.port } })
    cleanups.push(() => proxy.close())
    const token = ref('first')
    const channel = mountChannel(proxy.url(), { token })
    await waitFor(() => channel.subscribed.value)
    // The token expires and the app refreshes it; then the link drops.
    valid.delete('first')
    valid.add('second')
    token.value = 'second'
    proxy.cut()
    // The retry may come before a poll could see the drop: wait for the second handshake.
    await waitFor(() => offered.length === 2 && channel.subscribed.value)
    expect(offered.map((o) => o.token)).toEqual(['first', 'second'])
    expect(channel.error.value).toBeNull()
  })

  it('a refused token (4401) shows in `error` and `lastClose`; a new token and reconnect() join', async () => {
    const { server, offered } = await authServer(new Set(['good']))
    let current = 'expired'
    const channel = mountChannel(server.url, { token: () => current })
    await waitFor(() => channel.status.value === 'failed')
    expect(channel.lastClose.value).toMatchObject({ code: 4401, retryable: false })
    expect(channel.error.value?.message).toMatch(/4401/)
    expect(channel.error.value?.message).toMatch(/token/)
    expect(channel.error.value?.message).not.toMatch(/expired/) // the token is a secret: never in a message
    expect(channel.subscribed.value).toBe(false)
    current = 'good'
    channel.reconnect()
    await waitFor(() => channel.subscribed.value)
    expect(offered.map((o) => o.token)).toEqual(['expired', 'good'])
    expect(channel.status.value).toBe('open')
  })

  it('a connection that never opened and gives up says why in `error`', async () => {
    const { server } = await authServer(new Set())
    const url = server.url
    await server.close({ timeout: 200 })
    const channel = mountChannel(url, {}, { reconnect: { retries: 1, minDelay: 10, maxDelay: 20 } })
    await waitFor(() => channel.status.value === 'failed')
    expect(channel.error.value?.message).toMatch(/^vue-realtime: the channel's connection failed: Could not connect to .*\(1006 Abnormal Closure\)\. Call reconnect\(\) to try again\.$/)
    expect(channel.lastClose.value).toBeNull()
  })

  it('a link that was open and then gives up names its last close in `error`', async () => {
    const { server } = await authServer(new Set(['t']))
    const channel = mountChannel(server.url, { token: 't' }, { reconnect: { retries: 1, minDelay: 10, maxDelay: 20 } })
    await waitFor(() => channel.subscribed.value)
    await server.close({ code: 1012, timeout: 200 })
    await waitFor(() => channel.status.value === 'failed')
    expect(channel.lastClose.value).toMatchObject({ code: 1012 })
    expect(channel.error.value?.message).toMatch(/gave up reconnecting \(last close: 1012 Service Restart/)
  })
})
