// The soak's clients, in a process of their own: `node churn.mjs <url> <connections> <seconds> <topics>`.
// Each of <connections> slots loops until the deadline: connect, subscribe to a random topic
// (resuming from the last seq it saw there), publish 1-3 messages and wait for their acks, stay
// a random while, disconnect. Every stream is checked as it arrives (contiguous, no repeat);
// the totals go to the parent over IPC. Bounded: each wait has a deadline.
import WebSocket from 'ws'

const [url, connectionsArg, secondsArg, topicsArg] = process.argv.slice(2)
const CONNECTIONS = Number(connectionsArg)
const SECONDS = Number(secondsArg)
const TOPICS = Number(topicsArg)
const PROTOCOL = 'vue-realtime.v1'
/** Longest wait for any answer (welcome, subscribed, ack, close). */
const ANSWER_TIMEOUT = 60_000
const HOLD_MIN_MS = 5_000
const HOLD_MAX_MS = 15_000
/** Slots start spread over this long. */
const RAMP_MS = 5_000
/**
 * Handshakes in flight at once, as a fleet's jittered reconnects would spread them: on a busy
 * machine 2,000 at once outlast the server's handshake timeout, which is not what this measures.
 */
const CONCURRENT_HANDSHAKES = 100

const deadline = Date.now() + SECONDS * 1000
let open = 0
const totals = { peakOpen: 0, connections: 0, publishes: 0, acks: 0, messages: 0, presence: 0, errors: [], unexpectedCloses: [], streamFaults: [] }
/** Per topic: the epoch and every ack as [publish id, seq], to check against what is stored. */
const acked = new Map()
/** Per slot and topic: where it stands ({ epoch, seq }), to resume from. */
const positions = Array.from({ length: CONNECTIONS }, () => new Map())
let ids = 0

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
let handshakes = 0
const queued = []
const handshake = async () => {
  if (handshakes >= CONCURRENT_HANDSHAKES) await new Promise((resolve) => queued.push(resolve))
  handshakes++
  let done = false
  return () => {
    if (done) return
    done = true
    handshakes--
    queued.shift()?.()
  }
}
const fault = (list, text) => {
  if (list.length < 20) list.push(text)
}

/** One connection's life; resolves when it closed. */
async function life(slot) {
  const handshaken = await handshake()
  return new Promise((resolve) => {
    const topic = `soak:${Math.floor(Math.random() * TOPICS)}`
    const position = positions[slot].get(topic)
    const ws = new WebSocket(url, [PROTOCOL])
    let closing = false
    let welcomed = false
    let expected = null // next seq this stream must deliver
    let firstReplayed = null
    const waiting = new Map() // publish id -> resolve
    let onSubscribed = null
    let onWelcome = null
    const timer = setTimeout(() => {
      fault(totals.errors, `slot ${slot}: no progress within ${ANSWER_TIMEOUT} ms`)
      ws.terminate()
    }, ANSWER_TIMEOUT + HOLD_MAX_MS)
    ws.on('error', (error) => fault(totals.errors, `slot ${slot}: socket error ${error.message}`))
    ws.on('close', (code, reason) => {
      clearTimeout(timer)
      handshaken()
      if (welcomed) open--
      if (!closing) fault(totals.unexpectedCloses, `slot ${slot}: ${code} ${reason}`)
      for (const done of waiting.values()) done(null)
      resolve()
    })
    ws.on('message', (raw) => {
      const f = JSON.parse(raw.toString())
      if (f.type === 'welcome') {
        handshaken()
        totals.peakOpen = Math.max(totals.peakOpen, ++open)
        welcomed = true
        return onWelcome?.()
      }
      if (f.type === 'error') return fault(totals.errors, `slot ${slot}: ${f.code} ${f.message}`)
      if (f.type === 'presence') return void totals.presence++
      if (f.type === 'message') {
        totals.messages++
        if (expected !== null && f.seq !== expected) fault(totals.streamFaults, `${topic}: got ${f.seq}, expected ${expected}`)
        firstReplayed ??= f.seq
        expected = f.seq + 1
        positions[slot].set(topic, { epoch: f.epoch, seq: f.seq })
        return
      }
      if (f.type === 'subscribed') {
        // The replay: from just after where this slot stood (or the newest 5), ending at the head.
        if (position && f.epoch === position.epoch && !f.recovered) fault(totals.streamFaults, `${topic}: not recovered from ${position.seq} (head ${f.seq})`)
        const from = !position ? Math.max(1, f.seq - 4) : position.epoch === f.epoch ? position.seq + 1 : f.seq + 1
        if (firstReplayed !== null && (firstReplayed !== from || expected !== f.seq + 1)) fault(totals.streamFaults, `${topic}: replayed ${firstReplayed}..${expected - 1}, wanted ${from}..${f.seq}`)
        if (firstReplayed === null && from <= f.seq) fault(totals.streamFaults, `${topic}: no replay of ${from}..${f.seq}`)
        expected = f.seq + 1
        positions[slot].set(topic, { epoch: f.epoch, seq: f.seq })
        return onSubscribed?.()
      }
      if (f.type === 'ack') {
        totals.acks++
        let entry = acked.get(topic)
        if (!entry) acked.set(topic, (entry = { epoch: f.epoch, acks: [] }))
        entry.acks.push([f.id, f.seq])
        if (f.epoch !== entry.epoch) fault(totals.streamFaults, `${topic}: ack in epoch ${f.epoch}, earlier ${entry.epoch}`)
        waiting.get(f.id)?.(f)
        waiting.delete(f.id)
      }
    })
    const answer = (register) => new Promise((done) => register(done))
    ;(async () => {
      await answer((done) => (onWelcome = done))
      totals.connections++
      const subscribed = answer((done) => (onSubscribed = done))
      ws.send(JSON.stringify({ type: 'subscribe', topic, ...(position ? { since: position.seq, epoch: position.epoch } : { history: 5 }) }))
      await subscribed
      const count = 1 + Math.floor(Math.random() * 3)
      for (let i = 0; i < count; i++) {
        const id = `${process.pid}-s${slot}-${ids++}`
        const ack = answer((done) => waiting.set(id, done))
        totals.publishes++
        ws.send(JSON.stringify({ type: 'publish', topic, id, data: { slot, i, text: 'soak '.repeat(20) } }))
        if ((await ack) === null) return
      }
      await sleep(HOLD_MIN_MS + Math.random() * (HOLD_MAX_MS - HOLD_MIN_MS))
      closing = true
      ws.close(1000)
    })().catch((error) => {
      fault(totals.errors, `slot ${slot}: ${error.message}`)
      ws.terminate()
    })
  })
}

async function slot(i) {
  await sleep((i / CONNECTIONS) * RAMP_MS)
  while (Date.now() < deadline) await life(i)
}

const started = Date.now()
const progress = setInterval(() => process.stderr.write(`[soak clients] ${Math.round((Date.now() - started) / 1000)} s: ${open} open, ${totals.connections} connections, ${totals.acks} acks, ${totals.messages} messages\n`), 10_000)
await Promise.all(Array.from({ length: CONNECTIONS }, (_, i) => slot(i)))
clearInterval(progress)
process.send({ ...totals, topics: Object.fromEntries(acked), seconds: (Date.now() - started) / 1000 }, () => process.exit(0))
