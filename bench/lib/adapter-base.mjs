// The common shape every adapter returns, so each scenario is written once:
//   connect(url, opts) → { onOpen(fn), onMessage(fn), onClose(fn), send(data), close(), counters }
// opts: { heartbeat: { interval, timeout } | false, reconnect: boolean, maxMessages, shared }.
// `counters` = { opens, closes, messages, sent }. `onClose(fn)` gets { code, reason, at }.

export function createHandle(extra = {}) {
  const listeners = { open: [], message: [], close: [] }
  const counters = { opens: 0, closes: 0, messages: 0, sent: 0 }
  const handle = {
    counters,
    onOpen: (fn) => void listeners.open.push(fn),
    onMessage: (fn) => void listeners.message.push(fn),
    onClose: (fn) => void listeners.close.push(fn),
    /** How many messages the library's idiomatic consumer saw (reactive state for composables). */
    consumerCount: () => counters.messages,
    emitOpen() {
      counters.opens += 1
      for (const fn of listeners.open) fn()
    },
    emitMessage(msg) {
      counters.messages += 1
      const fns = listeners.message
      for (let i = 0; i < fns.length; i++) fns[i](msg)
    },
    emitClose(info) {
      counters.closes += 1
      for (const fn of listeners.close) fn({ at: performance.now(), ...info })
    },
    ...extra,
  }
  return handle
}

/** Decode like a consumer of a library that hands out raw frames would. */
export function decode(data) {
  const text = typeof data === 'string' ? data : data.toString()
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

/** `send` and `close` of a bare `ws` socket (no queue: not open means dropped), for the raw baselines. */
export function rawSocketCalls(handle, ws) {
  handle.send = (data) => {
    if (ws.readyState !== ws.OPEN) return 'dropped'
    ws.send(typeof data === 'string' ? data : JSON.stringify(data))
    handle.counters.sent += 1
    return 'sent'
  }
  handle.close = () => ws.close()
  return handle
}
