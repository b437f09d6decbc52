// Small helpers shared by the scenarios. Every wait is bounded.
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** Resolves true when `predicate()` holds, false after `timeout` ms (never throws). */
export async function until(predicate, timeout, interval = 5) {
  const end = performance.now() + timeout
  while (!predicate()) {
    if (performance.now() >= end) return false
    await sleep(interval)
  }
  return true
}

/** Resolves with the first call of `subscribe(fn)`'s callback argument, or null after `timeout` ms. */
export function next(subscribe, timeout) {
  return new Promise((resolve) => {
    let done = false
    const timer = setTimeout(() => finish(null), timeout)
    const finish = (value) => {
      if (done) return
      done = true
      clearTimeout(timer)
      resolve(value)
    }
    subscribe((value) => finish(value ?? { at: performance.now() }))
  })
}

export function percentile(values, p) {
  if (values.length === 0) return null
  const sorted = [...values].sort((a, b) => a - b)
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[i]
}

export const median = (values) => percentile(values, 50)
export const round = (n, digits = 0) => (n == null ? null : Math.round(n * 10 ** digits) / 10 ** digits)

/** A ~100-byte JSON message; `seq` keeps messages distinct. */
export function message(seq) {
  return `{"type":"tick","seq":${seq},"ts":1700000000000,"payload":"${PAYLOAD.slice(0, 46 - String(seq).length)}"}`
}
const PAYLOAD = 'abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz'

/** Close every handle and give sockets a moment to finish their closing handshakes. */
export async function closeAll(handles, settle = 50) {
  for (const h of handles) {
    try {
      h.close()
    } catch {}
  }
  await sleep(settle)
}
