// e. 50 consumers of one URL → TCP connections at the server (counted by the proxy).
// vue-realtime: one ConnectionManager, 50 acquires; VueUse: 50 useWebSocket calls;
// socket.io-client: 50 io(url) calls (its Manager cache shares one connection per URL).
import { serverBehindProxy } from '../lib/setup.mjs'
import { closeAll, sleep, until } from '../lib/util.mjs'

const N = 50

export const meta = {
  id: 'e',
  title: `${N} consumers of one URL`,
  libraries: ['ws', 'vue-realtime', 'vueuse', 'reconnecting-websocket', 'partysocket', 'socket.io'],
  concurrency: 3,
  timeoutMs: 30_000,
  columns: [
    { key: 'tcp', label: 'TCP connections at the server' },
    { key: 'consumersOpen', label: 'consumers that saw open' },
  ],
  note: 'vue-realtime shares through one ConnectionManager (acquire ×50); a consumer acquiring an already-open connection may get no open event.',
}

export async function run({ adapter }) {
  const env = await serverBehindProxy(adapter)
  const handles = []
  try {
    for (let i = 0; i < N; i++) handles.push(adapter.connect(env.url, { shared: true }))
    await until(() => handles.every((h) => h.counters.opens > 0), 5_000)
    // Settle: no further connections arriving.
    let last = -1
    while (last !== env.proxy.totalConnections) {
      last = env.proxy.totalConnections
      await sleep(300)
    }
    return { tcp: env.proxy.totalConnections, consumersOpen: handles.filter((h) => h.counters.opens > 0).length }
  } finally {
    await closeAll(handles)
    await env.close()
  }
}
