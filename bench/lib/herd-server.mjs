// The server side of scenarios c and f in its own process, so the clients' work never delays
// the server's clock: a loopback `ws`, socket.io or vue-realtime server behind the fault proxy, which counts
// every TCP connection attempt (refused ones included) when it accepts it. `node herd-server.mjs ws|io|realtime`;
// tells its port over IPC, then obeys:
//   { cmd: 'down', refuseMs, code? }  cut every connection, or close each with `code` (1012: a
//                              restart; vue-realtime's server restarts, sending its retry hints);
//                              refuse (accept and reset) for refuseMs (0: ready at once)
//   { cmd: 'attempts' }        → { attempts: [{ at, refused }] } since the last 'down' (at: epoch ms, sub-ms)
// `down` answers { t0 } (epoch ms) once the refusal is in place and the cut is done.
import { createFaultProxy } from './proxy.mjs'
import { closeEvery, startServer } from './servers.mjs'

const kind = process.argv[2] ?? 'ws'
/** Epoch ms with sub-ms resolution, comparable across processes (both sides use it). */
const now = () => performance.timeOrigin + performance.now()

const server = await startServer(kind)
const proxy = await createFaultProxy({ target: { port: server.port } })
let attempts = []
let reopen
proxy.on('connection', ({ refused }) => attempts.push({ at: now(), refused }))

process.on('message', async (m) => {
  if (m.cmd === 'down') {
    clearTimeout(reopen)
    attempts = []
    if (m.refuseMs > 0) await proxy.refuse(true)
    const t0 = now()
    if (m.code) await closeEvery(server, m.code)
    else proxy.cut()
    if (m.refuseMs > 0) reopen = setTimeout(() => proxy.refuse(false), m.refuseMs - (now() - t0))
    process.send({ t0 })
  } else if (m.cmd === 'attempts') {
    process.send({ attempts })
  }
})

process.send({ port: proxy.port, url: server.url(proxy.port) })
process.on('disconnect', () => process.exit(0))
