import type { ShallowRef } from 'vue'
import { describe, expectTypeOf, it } from 'vitest'
import { createRealtime, tabSharing, useWebSocket, type TabRole, type TabSharing } from 'vue-realtime'
import { createManualEnvironment, serveTabs, type ManualEnvironment, type TabSharingOptions } from 'vue-realtime/core'
import { useRealtimeStore } from 'vue-realtime/pinia'

describe('tab sharing types', () => {
  it('tabSharing() is the value of shareAcrossTabs, in createRealtime and per connection', () => {
    expectTypeOf(tabSharing()).toEqualTypeOf<TabSharing>()
    expectTypeOf(tabSharing).parameter(0).toEqualTypeOf<TabSharingOptions | undefined>()
    createRealtime({ shareAcrossTabs: tabSharing({ via: 'locks', name: 'chat' }) })
    useWebSocket('/ws', { shareAcrossTabs: tabSharing({ via: 'worker', worker: () => ({ port: { postMessage() {}, onmessage: null, close() {} } }) }) })
    // A real SharedWorker fits.
    tabSharing({ via: 'worker', worker: () => new SharedWorker(new URL('./realtime-worker.js', 'https://x/'), { type: 'module' }) })
    // @ts-expect-error a boolean cannot carry the implementation: pass tabSharing()
    createRealtime({ shareAcrossTabs: true })
    // @ts-expect-error unknown transport
    tabSharing({ via: 'storage' })
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
