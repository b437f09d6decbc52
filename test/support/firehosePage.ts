/**
 * A browser page (bundled by esbuild, see test/support/firehoseBundle.ts) with one Vue
 * component that renders the last `keep` messages of a WebSocket stream, fed by one of three
 * consumers chosen by the query string:
 *
 *   ?consumer=vue-realtime  useWebSocket's `messages` (its `flush` mode from `&flush=`)
 *   ?consumer=raw-raf       a raw WebSocket that pushes into an array and triggers once per
 *                           animation frame: the baseline of what batching can reach
 *   ?consumer=vueuse        VueUse's useWebSocket, `onMessage` pushing into a `ref([])`
 *   &ws=<url>&keep=200
 *
 * The page records what the bench scenario j and the e2e test read back from
 * `window.__firehose`: messages handled, renders (and the frame each happened in), frame
 * timestamps, and a sample of `handled` every 50 ms (epoch ms, so they compare with the server's clock).
 */
import { useWebSocket as useVueUseWebSocket } from '@vueuse/core'
import { createApp, defineComponent, h, onUpdated, ref, shallowRef, triggerRef, type Ref } from 'vue'
import { useWebSocket, type FlushMode } from 'vue-realtime'

interface Tick {
  seq: number
  payload: string
}

export interface FirehoseStats {
  consumer: string
  open: boolean
  /** Messages the consumer's per-message callback has run for. */
  handled: number
  /** Messages the rendered list holds now. */
  shown: number
  /** Highest `seq` rendered so far. */
  lastShown: number
  renders: number
  /** The animation frame (a counter, see `frame`) each render happened in. */
  renderFrames: number[]
  /** Epoch ms of every render. */
  renderTimes: number[]
  /** Animation frames so far; the ticker runs first in every frame. */
  frame: number
  /** Epoch ms of every animation frame. */
  frames: number[]
  /** [epoch ms, handled] every 50 ms. */
  samples: Array<[number, number]>
}

const params = new URLSearchParams(location.search)
const consumer = params.get('consumer') ?? 'vue-realtime'
const url = params.get('ws') ?? ''
const keep = Number(params.get('keep') ?? 200)
const flush = (params.get('flush') ?? undefined) as FlushMode | undefined
const epoch = (t: number): number => performance.timeOrigin + t

const stats: FirehoseStats = { consumer, open: false, handled: 0, shown: 0, lastShown: 0, renders: 0, renderFrames: [], renderTimes: [], frame: 0, frames: [], samples: [] }
;(window as unknown as { __firehose: FirehoseStats }).__firehose = stats

// The frame ticker registers first and re-registers inside each frame, so it always runs before
// any callback a message asked for: a render in frame k sees stats.frame === k.
const tick = (time: number): void => {
  stats.frame++
  stats.frames.push(epoch(time))
  requestAnimationFrame(tick)
}
requestAnimationFrame(tick)
setInterval(() => stats.samples.push([epoch(performance.now()), stats.handled]), 50)

/** The list each consumer renders. */
function source(): Ref<readonly Tick[]> {
  if (consumer === 'vue-realtime') {
    const ws = useWebSocket<Tick>(url, {
      maxMessages: keep,
      flush,
      onOpen: () => (stats.open = true),
      onMessage: () => stats.handled++,
    })
    return ws.messages
  }
  if (consumer === 'vueuse') {
    const list = ref<Tick[]>([])
    useVueUseWebSocket(url, {
      onConnected: () => (stats.open = true),
      onMessage(_ws, event) {
        stats.handled++
        list.value.push(JSON.parse(event.data as string) as Tick)
        if (list.value.length > keep) list.value.splice(0, list.value.length - keep)
      },
    })
    return list
  }
  // raw-raf: what a hand-written page that batches per frame does.
  const buffer: Tick[] = []
  const list = shallowRef<readonly Tick[]>(buffer)
  let scheduled = false
  const socket = new WebSocket(url)
  socket.onopen = () => (stats.open = true)
  socket.onmessage = (event) => {
    stats.handled++
    buffer.push(JSON.parse(event.data as string) as Tick)
    if (buffer.length > 2 * keep) buffer.splice(0, buffer.length - keep)
    if (scheduled) return
    scheduled = true
    requestAnimationFrame(() => {
      scheduled = false
      if (buffer.length > keep) buffer.splice(0, buffer.length - keep)
      triggerRef(list)
    })
  }
  return list
}

const Firehose = defineComponent({
  setup() {
    const list = source()
    onUpdated(() => {
      stats.renders++
      stats.renderFrames.push(stats.frame)
      stats.renderTimes.push(epoch(performance.now()))
      stats.shown = list.value.length
      stats.lastShown = list.value.at(-1)?.seq ?? 0
    })
    return () => h('ul', list.value.map((m) => h('li', { key: m.seq }, `${m.seq} ${m.payload}`)))
  },
})

createApp(Firehose).mount('#app')
