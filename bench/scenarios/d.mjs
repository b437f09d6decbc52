// d. 100 sends during an outage: the link is cut and TCP refused; once the client has seen the
// close it sends 100 numbered messages; 200 ms later the server is back. How many arrive at
// the server, in order, duplicated?
import { serverBehindProxy } from '../lib/setup.mjs'
import { closeAll, next, sleep, until } from '../lib/util.mjs'

const N = 100

export const meta = {
  id: 'd',
  title: `${N} sends during an outage`,
  libraries: ['ws', 'vue-realtime', 'vueuse', 'reconnecting-websocket', 'partysocket', 'socket.io'],
  concurrency: 3,
  timeoutMs: 60_000,
  columns: [
    { key: 'arrived', label: `arrived of ${N}` },
    { key: 'inOrder', label: 'in order' },
    { key: 'duplicates', label: 'duplicates' },
    { key: 'sendResults', label: 'send() said' },
  ],
}

export async function run({ adapter }) {
  const env = await serverBehindProxy(adapter)
  const h = adapter.connect(env.url, {})
  try {
    if (!(await next(h.onOpen, 10_000))) throw new Error('did not open within 10 s')
    await env.proxy.refuse(true)
    const closed = next(h.onClose, 10_000)
    env.proxy.cut()
    if (!(await closed)) throw new Error('the cut was not noticed within 10 s')
    const results = {}
    for (let i = 0; i < N; i++) {
      let r
      try {
        r = h.send({ d: i })
      } catch (error) {
        r = `threw`
      }
      results[r] = (results[r] ?? 0) + 1
    }
    await sleep(200)
    const reopened = next(h.onOpen, adapter.features.reconnect ? 20_000 : 0)
    await env.proxy.refuse(false)
    if (await reopened) await until(() => seqs(env.server.received).length >= N, 3_000)
    const got = seqs(env.server.received)
    const unique = new Set(got)
    return {
      arrived: unique.size,
      inOrder: got.every((v, i) => i === 0 || v > got[i - 1]),
      duplicates: got.length - unique.size,
      sendResults: Object.entries(results).map(([k, v]) => `${k} ×${v}`).join(', '),
      reconnected: Boolean(await reopened),
    }
  } finally {
    await closeAll([h])
    await env.close()
  }
}

function seqs(received) {
  const out = []
  for (const text of received) {
    try {
      const m = JSON.parse(text)
      if (typeof m?.d === 'number') out.push(m.d)
    } catch {}
  }
  return out
}
