// VueUse decides at import time whether it runs in a browser (`isClient`: window and document
// exist) and does nothing otherwise, so its composables are inert in plain Node. This gives it
// the minimum of a browser — event targets for window/document and the `ws` WebSocket — and
// must be imported before @vueuse/core.
import WebSocket from 'ws'

if (typeof globalThis.window === 'undefined') {
  const win = new EventTarget()
  const doc = new EventTarget()
  Object.assign(doc, { visibilityState: 'visible', hidden: false, documentElement: {} })
  Object.assign(win, { document: doc, navigator: globalThis.navigator ?? { onLine: true } })
  globalThis.window = win
  globalThis.document = doc
}
globalThis.WebSocket = WebSocket
