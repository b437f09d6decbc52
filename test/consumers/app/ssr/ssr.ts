/**
 * Server-side rendering code imports the Vue entries too: they typecheck under nodenext and
 * node16 as well (the probes fail if a type collapses to any).
 */
import { createSSRApp } from 'vue'
import { createRealtime, useWebSocket, type ConnectionStatus } from 'vue-realtime'
import { useRealtimeStore, type RealtimeConnectionInfo } from 'vue-realtime/pinia'

export function createApp(url: string) {
  const app = createSSRApp({ setup: () => useWebSocket(url) })
  app.use(createRealtime({ url }))
  return app
}

/** Accepts exactly a T. */
const accept = <T>(value: T): T => value

export function probes(): void {
  // @ts-expect-error ConnectionStatus is a union of names
  accept<ConnectionStatus>('bogus')
  // @ts-expect-error the store's lookup returns the info or undefined
  accept<number>(useRealtimeStore().connection('wss://example.com/ws'))
  // @ts-expect-error RealtimeConnectionInfo.protocols is a string[]
  accept<RealtimeConnectionInfo['protocols']>('vue-realtime.v1')
}
