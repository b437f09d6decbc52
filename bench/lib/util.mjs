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

/** Latency histograms of bench/lib/fanout-clients.mjs: buckets of this many ms, the rest in `overflow`. */
export const BUCKET_MS = 0.05

/** Merges fanout-clients groups ({ delivered, histogram, overflow }) into one. */
export function mergeHistograms(groups) {
  const histogram = new Array(groups[0].histogram.length).fill(0)
  for (const g of groups) g.histogram.forEach((c, k) => (histogram[k] += c))
  return { delivered: groups.reduce((n, g) => n + g.delivered, 0), histogram, overflow: groups.flatMap((g) => g.overflow) }
}

/** The p-th percentile (ms) of a merged histogram (`p = 100`: the maximum); null when empty. */
export function histogramPercentile({ delivered, histogram, overflow }, p) {
  if (delivered === 0) return null
  const rank = Math.max(1, Math.ceil((p / 100) * delivered))
  let seen = 0
  for (let k = 0; k < histogram.length; k++) {
    seen += histogram[k]
    if (seen >= rank) return (k + 1) * BUCKET_MS
  }
  const sorted = [...overflow].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, rank - seen - 1)] ?? null
}
