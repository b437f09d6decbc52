// A share of scenario f's herd in its own process: `node herd-clients.mjs <library> <url> <count>`.
// The herd is split over a few such processes so that no single event loop has to handle all
// 300 closes and reconnects in a row: real clients live on separate machines, and one process
// serialising them would bunch their attempts into bursts the schedule never asked for.
// IPC: tells { opened } once every client is open (or { error }); then
//   { cmd: 'watch' }  start recording the first reopen of each client   → { watching: true }
//   { cmd: 'report' } → { backAt: [epoch ms | null, ...] }
//   { cmd: 'close' }  close every client and exit.
import { until } from './util.mjs'

const [library, url, countArg] = process.argv.slice(2)
const count = Number(countArg)
/** Epoch ms with sub-ms resolution, comparable across processes. */
const now = () => performance.timeOrigin + performance.now()
console.log = console.info = console.warn = () => {}

const adapter = await import(`../adapters/${library}.mjs`)
const handles = []
for (let i = 0; i < count; i++) handles.push(adapter.connect(url, {}))
const opened = await until(() => handles.every((h) => h.counters.opens > 0), 20_000)
if (!opened) process.send({ error: `only ${handles.filter((h) => h.counters.opens > 0).length}/${count} opened within 20 s` })
else process.send({ opened: count })

const backAt = new Array(count).fill(null)
process.on('message', async (m) => {
  if (m.cmd === 'watch') {
    handles.forEach((h, i) => h.onOpen(() => (backAt[i] ??= now())))
    process.send({ watching: true })
  } else if (m.cmd === 'report') {
    process.send({ backAt })
  } else if (m.cmd === 'close') {
    for (const h of handles) {
      try {
        h.close()
      } catch {}
    }
    setTimeout(() => process.exit(0), 200)
  }
})
process.on('disconnect', () => process.exit(0))
