// A push server in its own process (forked by scenarios a and h) so the client under test has
// a core of its own, and so fast that the client is the bottleneck: every frame is encoded
// once at start-up and written straight to the TCP socket in frame-aligned ~64 kB chunks,
// honouring backpressure. `node push-server.mjs ws|io`; tells its port over IPC.
// Command (a client message): { cmd: 'push', n, identical } → n ~100-byte JSON messages.
import { message } from './util.mjs'
import { startServer } from './servers.mjs'

const kind = process.argv[2] ?? 'ws'
const DISTINCT = 200_000
const IDENTICAL = 1_000
const CHUNK = 64 * 1024

/** Server→client WebSocket text frame (unmasked). socket.io: an engine.io+socket.io event packet. */
function frame(json) {
  const payload = Buffer.from(kind === 'io' ? `42["m",${json}]` : json)
  const len = payload.length
  const header = len < 126 ? Buffer.from([0x81, len]) : Buffer.from([0x81, 126, len >> 8, len & 255])
  return Buffer.concat([header, payload])
}

/** Many frames in one buffer, with frame-aligned chunk boundaries (so a pong or ping written by the library between two chunks never lands inside a frame). */
function encode(count, identical) {
  const frames = []
  for (let i = 0; i < count; i++) frames.push(frame(message(identical ? 0 : i)))
  const buf = Buffer.concat(frames)
  const frameEnds = new Int32Array(count + 1)
  for (let i = 0, o = 0; i < count; i++) frameEnds[i + 1] = o += frames[i].length
  return { buf, frameEnds, count }
}

const distinct = encode(DISTINCT, false)
const identical = encode(IDENTICAL, true)

/** Chunks of whole frames covering the first n frames of `set` (n may exceed its size: it repeats). */
function* chunks(set, n) {
  let left = n
  while (left > 0) {
    const take = Math.min(left, set.count)
    let k = 0
    while (k < take) {
      let end = k
      while (end < take && set.frameEnds[end + 1] - set.frameEnds[k] < CHUNK) end++
      if (end === k) end++
      yield set.buf.subarray(set.frameEnds[k], set.frameEnds[end])
      k = end
    }
    left -= take
  }
}

function rawSocket(peer) {
  return kind === 'ws' ? peer.ws._socket : peer.socket.conn.transport.socket._socket
}

function push(peer, n, same) {
  const socket = rawSocket(peer)
  const it = chunks(same ? identical : distinct, n)
  const pump = () => {
    for (let c = it.next(); !c.done; c = it.next()) {
      if (!socket.write(c.value)) return void socket.once('drain', pump)
    }
  }
  pump()
}

const server = await startServer(kind, {
  onMessage(msg, peer) {
    let cmd = msg
    if (typeof msg === 'string') {
      try {
        cmd = JSON.parse(msg)
      } catch {
        return
      }
    }
    if (cmd?.cmd === 'push') push(peer, cmd.n, cmd.identical)
  },
})

process.send({ port: server.port })
process.on('disconnect', () => process.exit(0))
