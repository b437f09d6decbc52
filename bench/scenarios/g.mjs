// g. Size: esbuild bundle + minify for the browser (vue/pinia external), gzip level 9, of the
// minimal import of each library. vue-realtime also: the whole client library (src/index.ts).
import { gzipSync } from 'node:zlib'
import * as esbuild from 'esbuild'
import { alias, built, ROOT, Skip } from '../lib/build.mjs'

export const meta = {
  id: 'g',
  title: 'Size (esbuild minify, browser, vue external, gzip -9)',
  adapter: false,
  libraries: ['ws', 'vue-realtime', 'vueuse', 'reconnecting-websocket', 'partysocket', 'socket.io'],
  concurrency: 2,
  timeoutMs: 30_000,
  columns: [
    { key: 'import', label: 'import' },
    { key: 'minBytes', label: 'min (B)' },
    { key: 'gzipBytes', label: 'min+gzip (B)' },
    { key: 'extra', label: 'also' },
  ],
}

const imports = {
  ws: null,
  'vue-realtime': "export { useWebSocket } from 'vue-realtime'",
  vueuse: "export { useWebSocket } from '@vueuse/core'",
  'reconnecting-websocket': "export { default } from 'reconnecting-websocket'",
  partysocket: "export { default } from 'partysocket/ws'",
  'socket.io': "export { io } from 'socket.io-client'",
}

export async function measure(contents) {
  const out = await esbuild.build({
    stdin: { contents, resolveDir: ROOT, loader: 'js' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022', // what every evergreen browser runs; es2020 would downlevel #private fields to WeakMaps
    write: false,
    external: ['vue', 'pinia', '@vue/*'],
    alias,
    define: { 'process.env.NODE_ENV': '"production"', __DEV__: 'false' },
    logLevel: 'silent',
  })
  const code = out.outputFiles[0].contents
  return { minBytes: code.length, gzipBytes: gzipSync(code, { level: 9 }).length }
}

export async function run({ library }) {
  if (library === 'ws') return { import: 'native WebSocket (browser)', minBytes: 0, gzipBytes: 0 }
  if (library === 'vue-realtime') {
    const s = await built('client')
    if (!s.ok) throw new Skip(`vue-realtime client: ${s.reason}`)
  }
  const contents = imports[library]
  const r = await measure(contents)
  const result = { import: contents.replace(/^export /, ''), ...r }
  if (library === 'vue-realtime') {
    const all = await measure("export * from 'vue-realtime'")
    result.extra = `whole client (src/index.ts): ${all.minBytes.toLocaleString('en-US')} B min, ${all.gzipBytes.toLocaleString('en-US')} B gzip`
    result.wholeClient = all
  }
  return result
}
