// What each feature on the default path of `{ useWebSocket }` costs in bytes: the import is
// bundled as scenario g bundles it (esbuild, browser, es2022, minify, production, vue external,
// code splitting, gzip -9 of what loads at start), once as it is and once with each feature's
// module replaced by an inert stand-in of the same exports. The difference is what the feature
// would save if it left the default path (became an option that imports its own module). The
// bundles are not meant to run: this measures bytes, not behaviour.
//
//   node bench/size-cost.mjs
//
// Bundled from `src/` (scenario g shows that `src/` and the packed tarball give the same bytes).
import path from 'node:path'
import { gzipSync } from 'node:zlib'
import * as esbuild from 'esbuild'
import { ROOT, TMP } from './lib/build.mjs'

/** Feature → the modules it lives in, each with inert exports of the same names. */
const FEATURES = {
  heartbeat: {
    'src/core/heartbeat.ts': 'export const HEARTBEAT_DEFAULTS = {}; export function defaultIsPong() { return false }; export function resolveHeartbeat() { return null }; export class Heartbeat {}',
  },
  'tab-sharing stand-in (shareAcrossTabs: true) and the chunk split it causes': {
    'src/core/tabs/lazy.ts': 'export class LazyTabConnection {}',
    'src/core/tabs/detect.ts': 'export function shareWay() {}',
  },
  'close-code names and descriptions (lastClose, closeCodeInfo)': {
    'src/core/closeCodes.ts': "export function closeCodeInfo(code) { return { code, name: '', description: '', retryable: true } }; export function isSendableCloseCode(code) { return code === 1000 || (code >= 3000 && code <= 4999) }",
  },
  'credential masking in errors (redact)': {
    'src/core/redact.ts': 'export const redactSecrets = (text) => text; export const redactError = (error) => error',
  },
  'online/offline, visibility and page-lifecycle handling': {
    'src/core/environment.ts': 'export function resolveEnvironment(o = {}) { return { WebSocket: globalThis.WebSocket, setTimeout, clearTimeout, now: Date.now, random: Math.random, isOnline: () => true, isVisible: () => true, subscribe: () => () => {}, ...o } }; export const steadyClock = (now) => now',
  },
  'per-frame batching of messages (messageBuffer)': {
    'src/vue/messageBuffer.ts': "import { shallowRef, triggerRef } from 'vue'; export const FRAME_FALLBACK_MS = 0; export function createMessageBuffer(max) { const a = []; const messages = shallowRef(a); return { messages, push(m) { a.push(m); if (a.length > max) a.shift(); triggerRef(messages) }, clear() { a.length = 0; triggerRef(messages) } } }",
  },
}

async function size(stubs) {
  const out = await esbuild.build({
    stdin: { contents: "export { useWebSocket } from './src/index.ts'", resolveDir: ROOT, loader: 'ts', sourcefile: 'entry.ts' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    splitting: true,
    outdir: path.join(TMP, 'size-cost'),
    metafile: true,
    external: ['vue', 'pinia', '@vue/*'],
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'silent',
    plugins: [
      {
        name: 'stub',
        setup(build) {
          build.onLoad({ filter: /\/src\/.*\.ts$/ }, (args) => {
            const rel = path.relative(ROOT, args.path)
            return rel in stubs ? { contents: stubs[rel], loader: 'js', resolveDir: path.dirname(args.path) } : undefined
          })
        },
      },
    ],
  })
  const outputs = out.metafile.outputs
  const entry = Object.keys(outputs).find((name) => outputs[name].entryPoint)
  const atStart = new Set([entry])
  for (const name of atStart) for (const i of outputs[name].imports) if (i.kind === 'import-statement' && !i.external) atStart.add(i.path)
  let gzip = 0
  for (const file of out.outputFiles) if (atStart.has(path.relative(ROOT, file.path))) gzip += gzipSync(file.contents, { level: 9 }).length
  return gzip
}

const full = await size({})
const kB = (bytes) => `${(bytes / 1000).toFixed(2)} kB`
console.log(`{ useWebSocket } as it is: ${kB(full)} min+gzip (target 5.0 kB)\n`)
console.log('| feature on the default path | saved if it left it |\n|---|---|')
const all = {}
for (const [feature, stubs] of Object.entries(FEATURES)) {
  Object.assign(all, stubs)
  console.log(`| ${feature} | ${kB(full - (await size(stubs)))} |`)
}
const rest = await size(all)
console.log(`| all of the above at once | ${kB(full - rest)} |\n`)
console.log(`What stays without any of them (the connection state machine, reconnect and backoff, the send queue, the manager, useWebSocket's refs): ${kB(rest)}`)
