// The fan-out scenarios' publisher (i, k), in the bench process: a lean client of each protocol.
import WebSocket from 'ws'
import { ask } from './child.mjs'

/**
 * kind: 'io' (socket.io's wire protocol), 'raw' (one JSON frame per publish) or 'vr' (the
 * vue-realtime protocol, publishing to `topic`); url: the server's base URL (http or ws).
 */
export function fanoutPublisher(kind, url, topic) {
  const base = url.replace(/^http/, 'ws').replace(/\/$/, '')
  if (kind === 'io') {
    const ws = new WebSocket(`${base}/socket.io/?EIO=4&transport=websocket&role=publisher`)
    const ready = new Promise((resolve, reject) => {
      ws.on('error', reject)
      ws.on('message', (raw) => {
        const t = raw.toString()
        if (t === '2') return ws.send('3')
        if (t[0] === '0') return ws.send('40')
        if (t.startsWith('40')) resolve()
      })
    })
    return { ws, ready, publish: (n, data) => ws.send(`42${JSON.stringify(['pub', data])}`) }
  }
  if (kind === 'raw') {
    const ws = new WebSocket(`${base}/?role=publisher`)
    const ready = new Promise((resolve, reject) => {
      ws.on('error', reject)
      ws.on('open', resolve)
    })
    return { ws, ready, publish: (n, data) => ws.send(JSON.stringify(data)) }
  }
  const ws = new WebSocket(`${base}/`, ['vue-realtime.v1'])
  const ready = new Promise((resolve, reject) => {
    ws.on('error', reject)
    ws.on('message', (raw) => JSON.parse(raw.toString()).type === 'welcome' && resolve())
  })
  return { ws, ready, publish: (n, data) => ws.send(JSON.stringify({ type: 'publish', topic, id: `p-${n}`, data })) }
}

/** A forked helper's `process.cpuUsage()` so far (the fan-out servers answer 'cpu'). */
export async function cpuUsageOf(server) {
  return (await ask(server, 'cpu')).cpu
}
