import type { ShallowRef } from 'vue'
import { describe, expectTypeOf, it } from 'vitest'
import { createRealtime, tabSharing, useWebSocket, type TabRole, type TabSharing } from 'vue-realtime'
import { createManualEnvironment, serveTabs, type ConnectionOptions, type ManualEnvironment, type TabSharingOptions } from 'vue-realtime/core'
import { useRealtimeStore } from 'vue-realtime/pinia'

describe('tab sharing types', () => {
  it('tabSharing() is the value of shareAcrossTabs, in createRealtime and per connection', () => {
    expectTypeOf(tabSharing()).toEqualTypeOf<TabSharing>()
    expectTypeOf(tabSharing).parameter(0).toEqualTypeOf<TabSharingOptions | undefined>()
    createRealtime({ shareAcrossTabs: tabSharing({ via: 'locks', name: 'chat' }) })
    useWebSocket('/ws', { shareAcrossTabs: tabSharing({ via: 'worker', worker: () => ({ port: { postMessage() {}, onmessage: null, close() {} } }) }) })
    // A real SharedWorker fits.
    tabSharing({ via: 'worker', worker: () => new SharedWorker(new URL('./realtime-worker.js', 'https://x/'), { type: 'module' }) })
    // @ts-expect-error unknown transport
    tabSharing({ via: 'storage' })
  })

  it('shareAcrossTabs takes the plain forms of the contract: true, false, { via, worker, name }', () => {
    createRealtime({ shareAcrossTabs: true })
    createRealtime({ shareAcrossTabs: false })
    createRealtime({ shareAcrossTabs: {} })
    createRealtime({ shareAcrossTabs: { via: 'auto', name: 'chat' } })
    createRealtime({ shareAcrossTabs: { via: 'locks' } })
    createRealtime({ shareAcrossTabs: { via: 'worker', worker: () => new SharedWorker('/realtime-worker.js', { type: 'module' }) } })
    useWebSocket('/ws', { shareAcrossTabs: true })
    useWebSocket('/ws', { shareAcrossTabs: { via: 'worker', worker: () => ({ port: { postMessage() {}, onmessage: null, close() {} } }) } })
    expectTypeOf<NonNullable<ConnectionOptions['shareAcrossTabs']>>().toEqualTypeOf<boolean | TabSharingOptions | TabSharing>()
    expectTypeOf<TabSharingOptions['via']>().toEqualTypeOf<'auto' | 'locks' | 'worker' | undefined>()
    // @ts-expect-error unknown transport
    createRealtime({ shareAcrossTabs: { via: 'storage' } })
    // @ts-expect-error the worker is a factory, not a SharedWorker
    createRealtime({ shareAcrossTabs: { via: 'worker', worker: new SharedWorker('/realtime-worker.js') } })
    // @ts-expect-error unknown option (a typo of `name`)
    createRealtime({ shareAcrossTabs: { nmae: 'chat' } })
    // @ts-expect-error not a string
    createRealtime({ shareAcrossTabs: 'auto' })
  })

  it('role and uncertain on useWebSocket and in the store', () => {
    const ws = useWebSocket('/ws')
    expectTypeOf(ws.role).toEqualTypeOf<Readonly<ShallowRef<TabRole>>>()
    expectTypeOf(ws.uncertain).toEqualTypeOf<Readonly<ShallowRef<number>>>()
    expectTypeOf<TabRole>().toEqualTypeOf<'leader' | 'follower' | 'solo'>()
    const store = useRealtimeStore()
    expectTypeOf(store.connections['x']!.role).toEqualTypeOf<TabRole>()
  })

  it('the manual environment simulates tabs of one profile; serveTabs runs in a worker', () => {
    const a = createManualEnvironment()
    const b = createManualEnvironment({}, a.profile)
    expectTypeOf(b).toEqualTypeOf<ManualEnvironment>()
    expectTypeOf(b.tab.pause).toEqualTypeOf<() => void>()
    expectTypeOf(serveTabs).returns.toEqualTypeOf<() => void>()
  })
})
