/** Types of the Pinia store's lookup (issue 8 point 10). */
import { expectTypeOf, test } from 'vitest'
import { useRealtimeStore, type RealtimeConnectionInfo } from '../../src/pinia'
import type { ConnectionStatus } from '../../src/core'

test('connection(url, protocols?) returns the info or undefined', () => {
  const store = useRealtimeStore()
  expectTypeOf(store.connection).parameters.toEqualTypeOf<[url: string | URL, protocols?: string | string[]]>()
  expectTypeOf(store.connection('wss://example.com/ws')).toEqualTypeOf<RealtimeConnectionInfo | undefined>()
  expectTypeOf(store.connections).toEqualTypeOf<Record<string, RealtimeConnectionInfo>>()
})

test('the info shows masked url, protocols and key next to the state', () => {
  expectTypeOf<RealtimeConnectionInfo['protocols']>().toEqualTypeOf<string[]>()
  expectTypeOf<RealtimeConnectionInfo['key']>().toEqualTypeOf<string>()
  expectTypeOf<RealtimeConnectionInfo['status']>().toEqualTypeOf<ConnectionStatus>()
})
