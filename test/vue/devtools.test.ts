// @vitest-environment happy-dom
// The devtools against a real protocol server on loopback, read through a recording hook.
import { mount } from '@vue/test-utils'
import { afterEach, describe, expect, it } from 'vitest'
import { defineComponent, h } from 'vue'
import WebSocket from 'ws'
import type { WebSocketConstructor } from '../../src/core/types'
import { createManualEnvironment, MemoryProfile } from '../../src/core'
import { createRealtimeServer, type RealtimeServer } from '../../src/server'
import { tabSharing } from '../../src'
import { createRealtime, INSPECTOR_ID, TIMELINE_LAYER_ID, type RealtimeTimelineEvent } from '../../src/vue'
import { useChannel, type UseChannelReturn } from '../../src/vue/useChannel'
import { waitFor } from '../support/wait'
import { installRecordingHook, rows, type RecordingHook } from './devtoolsHook'

const TOKEN = 'tok-abc123'
const QUERY_SECRET = 's3cret-q'

const cleanups: (() => unknown)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function protocolServer(): Promise<RealtimeServer> {
  const server = createRealtimeServer({ port: 0 })
  await server.ready
  cleanups.push(() => server.close({ timeout: 200 }))
  return server
}

function hook(): RecordingHook {
  const recording = installRecordingHook()
  cleanups.push(() => recording.uninstall())
  return recording
}

/** An app with two channels on one connection whose URL carries a secret and whose token option is set. */
function mountChannels(server: RealtimeServer, devtools?: { addTimelineEvent: (event: RealtimeTimelineEvent) => void }) {
  const channels: UseChannelReturn<string>[] = []
  const plugin = createRealtime({
    url: `${server.url}?room=1&token=${QUERY_SECRET}`,
    token: TOKEN,
    WebSocket: WebSocket as unknown as WebSocketConstructor,
    reconnect: { minDelay: 20, maxDelay: 100 },
    idleTimeout: 0,
    ...(devtools ? { devtools } : {}),
  })
  const wrapper = mount(
    defineComponent({
      setup() {
        channels.push(useChannel<string>('room:a'), useChannel<string>('room:b'))
        return () => h('p', channels.map((c) => c.status.value).join())
      },
    }),
    { global: { plugins: [plugin] } },
  )
  cleanups.push(() => wrapper.unmount())
  return { channels, app: wrapper.vm.$.appContext.app, manager: plugin.manager, wrapper }
}

describe('devtools', () => {
  it('registers a timeline layer and an inspector with the Vue Devtools hook', async () => {
    const recording = hook()
    const server = await protocolServer()
    const { app } = mountChannels(server)
    expect(recording.plugins).toHaveLength(1)
    const { app: registered, ...descriptor } = recording.plugins[0]!.descriptor
    expect(registered).toBe(app)
    expect(descriptor).toMatchObject({ id: 'vue-realtime', label: 'vue-realtime' })
    expect(recording.layers).toEqual([expect.objectContaining({ id: TIMELINE_LAYER_ID, label: 'Realtime' })])
    expect(recording.inspectors).toEqual([expect.objectContaining({ id: INSPECTOR_ID, label: 'Realtime' })])
  })

  it('shows one node per connection with a child per channel, their state, and no secret', async () => {
    const recording = hook()
    const server = await protocolServer()
    const { app, channels } = mountChannels(server)
    await waitFor(() => channels.every((c) => c.subscribed.value), { message: 'both channels subscribed' })
    await channels[0]!.publish('one')
    const ack = await channels[0]!.publish('two')
    await waitFor(() => channels[0]!.messages.value.length === 2)

    const tree = recording.tree(app, INSPECTOR_ID)
    expect(tree).toHaveLength(1)
    const [node] = tree
    expect(node!.label).toBe(`${server.url}?room=1&token=***`)
    expect(node!.tags?.[0]?.label).toBe('open')
    expect(node!.children?.map((c) => c.label)).toEqual(['room:a', 'room:b'])
    expect(node!.children?.[0]?.tags?.[0]?.label).toBe('seq 2')

    const state = recording.state(app, INSPECTOR_ID, node!.id)
    expect(rows(state, 'connection')).toMatchObject({ status: 'open', role: 'solo', retries: 0, readyState: 1 })
    expect(rows(state, 'outbox')).toMatchObject({ queued: 0, dropped: 0 })
    expect(rows(state, 'outbox').sent).toBeGreaterThanOrEqual(2)
    expect(rows(state, 'protocol')).toMatchObject({ clientId: channels[0]!.clientId.value, channels: 2 })

    const channel = recording.state(app, INSPECTOR_ID, node!.children![0]!.id)
    expect(rows(channel, 'channel')).toMatchObject({ topic: 'room:a', subscribed: true, consumers: 1, 'unacked publishes': 0 })
    expect(ack.epoch).toEqual(expect.any(String))
    expect(rows(channel, 'last position')).toEqual({ seq: 2, epoch: ack.epoch })
    expect(Object.keys(rows(channel, 'presence'))).toEqual([channels[0]!.clientId.value])
    expect(rows(channel, 'presence')[channels[0]!.clientId.value!]).toMatchObject({ online: true })

    // The search box filters by URL or topic.
    expect(recording.tree(app, INSPECTOR_ID, 'room:b')).toHaveLength(1)
    expect(recording.tree(app, INSPECTOR_ID, 'nothing-like-this')).toHaveLength(0)
    // Another inspector or app gets nothing from this plugin.
    expect(recording.tree(app, 'pinia')).toEqual([])
    expect(recording.tree({}, INSPECTOR_ID)).toEqual([])
    expect(recording.state(app, INSPECTOR_ID, 'unknown-node')).toBeUndefined()

    const everything = JSON.stringify({ tree, state, channel, events: recording.events })
    expect(everything).not.toContain(TOKEN)
    expect(everything).not.toContain(QUERY_SECRET)
    // The panel is told to refresh as things change.
    await waitFor(() => recording.treeRefreshes > 0 && recording.stateRefreshes > 0)
  })

  it('groups the timeline per connection attempt and explains the close', async () => {
    const recording = hook()
    const custom: RealtimeTimelineEvent[] = []
    const server = await protocolServer()
    const { app, channels } = mountChannels(server, { addTimelineEvent: (event) => custom.push(event) })
    await waitFor(() => channels.every((c) => c.subscribed.value))
    // The server ends the link with an application code; the client retries (attempt 2).
    for (const client of server.clients.values()) client.close(4000, 'rebalancing')
    await waitFor(() => channels.every((c) => c.subscribed.value) && channels[0]!.status.value === 'open' && server.clients.size === 1, {
      message: 'rejoined after the server closed the link',
    })
    await channels[1]!.publish('after')

    const events = recording.events.map((e) => e.event)
    expect(recording.events.every((e) => e.layerId === TIMELINE_LAYER_ID)).toBe(true)
    // The custom sink gets the same events as the devtools.
    await waitFor(() => custom.length >= events.length)
    expect(custom.map((e) => e.title).slice(0, events.length)).toEqual(events.map((e) => e.title))

    const groups = [...new Set(events.map((e) => e.groupId))]
    expect(groups).toEqual(['connection-1 #1', 'connection-1 #2'])
    for (const group of groups) {
      const inGroup = events.filter((e) => e.groupId === group)
      expect(inGroup[0]).toMatchObject({ title: 'status', data: { to: 'connecting' } })
      expect(inGroup.map((e) => e.title)).toEqual(expect.arrayContaining(['open', 'frame in', 'frame out']))
    }
    const first = events.filter((e) => e.groupId === groups[0])
    // The attempt ends with its close and the move to `reconnecting` (in the order the core emits them).
    expect(first.slice(-2).map((e) => `${e.title} ${String(e.data.to ?? '')}`).sort()).toEqual(['close ', 'status reconnecting'])
    expect(first.find((e) => e.title === 'close')).toMatchObject({
      logType: 'default',
      data: { code: 4000, reason: 'rebalancing', name: 'Private (application)', retryable: true },
    })
    expect(events.every((e) => e.subtitle === `${server.url}?room=1&token=***`)).toBe(true)

    const [node] = recording.tree(app, INSPECTOR_ID)
    const state = recording.state(app, INSPECTOR_ID, node!.id)
    expect(rows(state, 'last close')).toMatchObject({ code: 4000, reason: 'rebalancing', retryable: true, name: 'Private (application)' })
    expect(rows(state, 'last close').meaning).toEqual(expect.any(String))
    expect(rows(state, 'connection').retries).toBe(1)
    expect(JSON.stringify(recording.events)).not.toContain(TOKEN)
  })

  it('shows a channel waiting to rejoin, its unacked publishes and the queued outbox while the server is down', async () => {
    const recording = hook()
    const server = await protocolServer()
    const { app, channels, manager } = mountChannels(server)
    await waitFor(() => channels.every((c) => c.subscribed.value))
    const connection = [...manager.connections.values()][0]!
    await server.close({ timeout: 200 })
    await waitFor(() => connection.status !== 'open', { message: 'the link is down' })
    connection.send('queued while down')
    void channels[0]!.publish('later').catch(() => {})
    const [node] = recording.tree(app, INSPECTOR_ID)
    expect(node!.tags?.map((t) => t.label)).toContain('1 queued')
    expect(node!.children?.[0]?.tags?.map((t) => t.label)).toEqual(['joining', '1 unacked'])
    expect(rows(recording.state(app, INSPECTOR_ID, node!.children![0]!.id), 'channel')).toMatchObject({ subscribed: false, 'unacked publishes': 1 })
    expect(rows(recording.state(app, INSPECTOR_ID, node!.id), 'outbox')).toMatchObject({ queued: 1 })
    expect(rows(recording.state(app, INSPECTOR_ID, node!.id), 'last close')).toMatchObject({ code: 1012, retryable: true })
  })

  it('shows which tab holds a socket shared across tabs, and role changes in the timeline', async () => {
    const recording = hook()
    const server = await protocolServer()
    // Two tabs of one browser profile (in-memory Web Locks and BroadcastChannel).
    const profile = new MemoryProfile()
    const tab = () =>
      mount(defineComponent({ setup: () => useChannel<string>('room:tabs'), render: () => h('p') }), {
        global: {
          plugins: [
            createRealtime({
              url: server.url,
              WebSocket: WebSocket as unknown as WebSocketConstructor,
              idleTimeout: 0,
              shareAcrossTabs: tabSharing(),
              environment: createManualEnvironment({}, profile),
            }),
          ],
        },
      })
    const leader = tab()
    cleanups.push(() => leader.unmount())
    await waitFor(() => leader.vm.subscribed)
    const follower = tab()
    cleanups.push(() => follower.unmount())
    await waitFor(() => follower.vm.subscribed)
    const apps = [leader, follower].map((w) => w.vm.$.appContext.app)
    const roles = apps.map((app) => rows(recording.state(app, INSPECTOR_ID, recording.tree(app, INSPECTOR_ID)[0]!.id), 'connection').role)
    expect(roles).toEqual(['leader', 'follower'])
    expect(recording.tree(apps[1], INSPECTOR_ID)[0]!.tags?.map((t) => t.label)).toContain('follower')
    const roleEvents = recording.events.map((e) => e.event).filter((e) => e.title === 'role')
    // The first tab starts as a follower and takes the lead when it wins the election.
    expect(roleEvents.map((e) => e.data)).toContainEqual({ from: 'follower', to: 'leader' })
    expect(server.clients.size).toBe(1)
  })

  it('stops on app.unmount(): no node is left and no event follows', async () => {
    const recording = hook()
    const server = await protocolServer()
    const { app, channels, wrapper } = mountChannels(server)
    await waitFor(() => channels.every((c) => c.subscribed.value))
    wrapper.unmount()
    const count = recording.events.length
    expect(recording.tree(app, INSPECTOR_ID)).toEqual([])
    server.publish('room:a', 'after unmount').catch(() => {})
    await waitFor(() => server.clients.size === 0)
    expect(recording.events.length).toBe(count)
  })
})
