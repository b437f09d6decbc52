// g. Size as users get it. vue-realtime is measured from its PACKED TARBALL (`npm run build`,
// `npm pack`, installed into bench/.tmp/consumer), the peers from their published packages:
// - the minimal import bundled alone (esbuild, browser, es2022, minify, NODE_ENV=production,
//   vue/pinia external, code splitting), min and min+gzip -9 of what loads at start; chunks
//   reached only by a dynamic import() (tab sharing) are counted apart;
// - what it adds to a fresh Vite app (vite build, production) that already renders one
//   component with Vue (and Pinia for the store variant): the JS loaded at start, gzip -9, minus the app's own.
// vue-realtime also: the whole client entry, `{ useWebSocket }` bundled from src/ (to see what
// the dist chunking costs), and the dev-only check: the production bundle of the whole entry
// must hold none of the dev-only markers (warnings, devtools hook) that its development bundle holds.
import { execFile } from 'node:child_process'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { promisify } from 'node:util'
import { gzipSync } from 'node:zlib'
import * as esbuild from 'esbuild'
import { alias, ROOT, TMP } from '../lib/build.mjs'

const exec = promisify(execFile)
const SIZE = path.join(TMP, 'size')
const CONSUMER = path.join(TMP, 'consumer')

export const meta = {
  id: 'g',
  title: 'Size: minimal import (esbuild, browser, es2022, minify, production, vue external, gzip -9) and what it adds to a fresh Vite app',
  adapter: false,
  libraries: ['ws', 'vue-realtime', 'vueuse', 'reconnecting-websocket', 'partysocket', 'socket.io'],
  concurrency: 2,
  timeoutMs: 180_000,
  baseline: 'vueuse',
  ratios: [{ key: 'gzipBytes', label: 'gzip × VueUse' }],
  columns: [
    { key: 'import', label: 'import' },
    { key: 'minBytes', label: 'min (B)' },
    { key: 'gzipBytes', label: 'min+gzip (B)' },
    { key: 'viteDeltaBytes', label: 'added to a Vite app, gzip (B)' },
    { key: 'extra', label: 'also' },
  ],
  note: 'vue-realtime from its packed tarball, as a bundler sees it after `npm install`. Targets: `{ useWebSocket }` ≤ 5.0 kB, the whole client entry ≤ 10 kB, dev-only code and devtools 0 B in production.',
}

/** What each library's users import, and a use of it that a bundler cannot drop. */
const USES = {
  'vue-realtime': {
    import: "{ useWebSocket } from 'vue-realtime'",
    app: "import { useWebSocket } from 'vue-realtime'\nconst use = () => { const ws = useWebSocket('ws://127.0.0.1:1/'); return () => h('p', ws.status.value) }",
  },
  vueuse: {
    import: "{ useWebSocket } from '@vueuse/core'",
    bundle: "export { useWebSocket } from '@vueuse/core'",
    app: "import { useWebSocket } from '@vueuse/core'\nconst use = () => { const ws = useWebSocket('ws://127.0.0.1:1/'); return () => h('p', ws.status.value) }",
  },
  'reconnecting-websocket': {
    import: "ReconnectingWebSocket from 'reconnecting-websocket'",
    bundle: "export { default } from 'reconnecting-websocket'",
    app: "import ReconnectingWebSocket from 'reconnecting-websocket'\nconst use = () => { const s = ref(0); onMounted(() => { const ws = new ReconnectingWebSocket('ws://127.0.0.1:1/'); ws.onmessage = () => s.value++ }); return () => h('p', s.value) }",
  },
  partysocket: {
    import: "WebSocket from 'partysocket/ws'",
    bundle: "export { default } from 'partysocket/ws'",
    app: "import WebSocket from 'partysocket/ws'\nconst use = () => { const s = ref(0); onMounted(() => { const ws = new WebSocket('ws://127.0.0.1:1/'); ws.onmessage = () => s.value++ }); return () => h('p', s.value) }",
  },
  'socket.io': { import: "{ io } from 'socket.io-client'", bundle: "export { io } from 'socket.io-client'", app: null },
}

/** Text that exists only for development: it must be absent from production bundles. */
const DEV_ONLY_MARKERS = ['fix the callback', 'without a connection', "the first acquirer's options apply", 'devtools-plugin:setup', '__VUE_DEVTOOLS_GLOBAL_HOOK__', 'addTimelineLayer']

/**
 * Bundles `contents` as an app's bundler would, code splitting on: what a page loads at start
 * (the entry and the chunks it imports statically) is the size; chunks reached only through a
 * dynamic `import()` (the tab-sharing code of `shareAcrossTabs: true`) load on demand and are
 * counted apart, in `lazyGzipBytes`. `text` is every chunk (for the dev-only markers).
 */
export async function bundle(contents, { resolveDir = ROOT, mode = 'production', useAlias = false } = {}) {
  const out = await esbuild.build({
    stdin: { contents, resolveDir, loader: 'js', sourcefile: 'entry.js' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022', // what every evergreen browser runs; es2020 would downlevel #private fields to WeakMaps
    write: false,
    splitting: true,
    outdir: path.join(SIZE, 'esbuild'),
    metafile: true,
    external: ['vue', 'pinia', '@vue/*'],
    nodePaths: [path.join(ROOT, 'node_modules')],
    alias: useAlias ? alias : {},
    // Not the project's tsconfig `paths` (they map vue-realtime to src/): resolve as an app would.
    ...(useAlias ? {} : { tsconfigRaw: {} }),
    define: { 'process.env.NODE_ENV': JSON.stringify(mode) },
    logLevel: 'silent',
  })
  const outputs = new Map(out.outputFiles.map((f) => [path.relative(ROOT, f.path), f.contents]))
  const entry = Object.keys(out.metafile.outputs).find((o) => out.metafile.outputs[o].entryPoint)
  const atStart = staticClosure([entry], (o) => out.metafile.outputs[o].imports.filter((i) => i.kind === 'import-statement' && !i.external).map((i) => i.path))
  const sizes = (names) => names.reduce((sum, o) => ({ min: sum.min + outputs.get(o).length, gzip: sum.gzip + gzipSync(outputs.get(o), { level: 9 }).length }), { min: 0, gzip: 0 })
  const start = sizes(atStart)
  const lazy = sizes([...outputs.keys()].filter((o) => o.endsWith('.js') && !atStart.includes(o)))
  const text = [...outputs.values()].map((c) => new TextDecoder().decode(c)).join('\n')
  return { minBytes: start.min, gzipBytes: start.gzip, lazyGzipBytes: lazy.gzip, text }
}

/** `roots` and every output they import statically, transitively. */
function staticClosure(roots, importsOf) {
  const seen = new Set(roots)
  for (const name of seen) for (const next of importsOf(name)) seen.add(next)
  return [...seen]
}

/** Builds a one-component Vite app in `dir` (production) and returns the JS it loads at start, gzip -9, in bytes. */
async function viteApp(dir, body, { pinia = false } = {}) {
  const { build } = await import('vite')
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  writeFileSync(path.join(dir, 'index.html'), '<!doctype html><div id="app"></div><script type="module" src="./main.js"></script>')
  writeFileSync(
    path.join(dir, 'main.js'),
    [
      "import { createApp, defineComponent, h, onMounted, ref } from 'vue'",
      pinia ? "import { createPinia } from 'pinia'" : '',
      body ?? "const use = () => { const s = ref('hello'); onMounted(() => (s.value = 'mounted')); return () => h('p', s.value) }",
      `createApp(defineComponent({ setup: use }))${pinia ? '.use(createPinia())' : ''}.mount('#app')`,
    ].join('\n'),
  )
  const result = await build({
    root: dir,
    configFile: false,
    logLevel: 'silent',
    mode: 'production',
    build: { write: false, target: 'es2022', modulePreload: false, reportCompressedSize: false },
  })
  // What the page loads at start: the entry chunks and what they import statically (not the
  // chunks of a dynamic `import()`, which load only when used).
  const chunks = new Map((Array.isArray(result) ? result : [result]).flatMap((r) => r.output).filter((o) => o.type === 'chunk').map((c) => [c.fileName, c]))
  const atStart = staticClosure([...chunks.values()].filter((c) => c.isEntry).map((c) => c.fileName), (name) => chunks.get(name).imports)
  return atStart.reduce((sum, name) => sum + gzipSync(chunks.get(name).code, { level: 9 }).length, 0)
}

/** `npm run build && npm pack`, installed into bench/.tmp/consumer; returns the tarball's name. */
async function installTarball() {
  await exec('npm', ['run', 'build'], { cwd: ROOT, maxBuffer: 64 * 2 ** 20 })
  const packDir = path.join(TMP, 'pack')
  rmSync(packDir, { recursive: true, force: true })
  mkdirSync(packDir, { recursive: true })
  const { stdout } = await exec('npm', ['pack', '--json', '--pack-destination', packDir], { cwd: ROOT, maxBuffer: 64 * 2 ** 20 })
  const tarball = path.join(packDir, JSON.parse(stdout)[0].filename)
  rmSync(CONSUMER, { recursive: true, force: true })
  mkdirSync(CONSUMER, { recursive: true })
  writeFileSync(path.join(CONSUMER, 'package.json'), '{ "name": "bench-consumer", "private": true }\n')
  // Peers (vue, pinia) come from the project's node_modules, as an app's own would.
  const flags = ['--no-save', '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund', '--no-package-lock', '--legacy-peer-deps']
  await exec('npm', ['install', '--prefix', CONSUMER, tarball, ...flags], { cwd: ROOT, maxBuffer: 64 * 2 ** 20 })
  return path.basename(tarball)
}

const kB = (bytes) => `${(bytes / 1000).toFixed(1)} kB`

async function vueRealtime() {
  const tarball = await installTarball()
  const from = { resolveDir: CONSUMER }
  const minimal = await bundle("export { useWebSocket } from 'vue-realtime'", from)
  const whole = await bundle("export * from 'vue-realtime'", from)
  const wholeDev = await bundle("export * from 'vue-realtime'", { ...from, mode: 'development' })
  const fromSrc = await bundle("export { useWebSocket } from 'vue-realtime'", { useAlias: true })
  const leaked = DEV_ONLY_MARKERS.filter((m) => whole.text.includes(m))
  const vacuous = DEV_ONLY_MARKERS.filter((m) => !wholeDev.text.includes(m))

  const apps = path.join(CONSUMER, 'apps')
  const base = await viteApp(path.join(apps, 'base'))
  const basePinia = await viteApp(path.join(apps, 'base-pinia'), undefined, { pinia: true })
  const ws = await viteApp(path.join(apps, 'use-websocket'), USES['vue-realtime'].app)
  const all = await viteApp(
    path.join(apps, 'channel-store'),
    [
      "import { createRealtime, useWebSocket, useChannel } from 'vue-realtime'",
      "import { useRealtimeStore } from 'vue-realtime/pinia'",
      "const use = () => { const ws = useWebSocket('ws://127.0.0.1:1/'); const ch = useChannel('room', { url: 'ws://127.0.0.1:1/' }); const store = useRealtimeStore(); return () => h('p', [ws.status.value, ch.messages.value.length, store.openCount]) }",
    ].join('\n'),
    { pinia: true },
  )
  // createRealtime is part of that app's setup, as in the guide.
  return {
    import: `${USES['vue-realtime'].import} (tarball ${tarball})`,
    minBytes: minimal.minBytes,
    gzipBytes: minimal.gzipBytes,
    lazyGzipBytes: minimal.lazyGzipBytes,
    viteDeltaBytes: ws - base,
    wholeClient: { minBytes: whole.minBytes, gzipBytes: whole.gzipBytes },
    fromSrc: { minBytes: fromSrc.minBytes, gzipBytes: fromSrc.gzipBytes },
    viteDeltaChannelStoreBytes: all - basePinia,
    devOnlyBytesInDevelopment: wholeDev.gzipBytes - whole.gzipBytes,
    devOnlyLeaked: leaked,
    devOnlyMarkersCheckedAgainstDevBuild: vacuous.length === 0,
    extra: [
      `loaded on demand (the tab-sharing chunk of \`shareAcrossTabs: true\`) ${kB(minimal.lazyGzipBytes)}`,
      `whole client entry ${kB(whole.gzipBytes)}`,
      `{ useWebSocket } from src/ ${kB(fromSrc.gzipBytes)}`,
      `Vite app + useWebSocket + useChannel + store ${kB(all - basePinia)}`,
      `dev-only markers in production: ${leaked.length ? leaked.join(', ') : 'none'}${vacuous.length ? ` (not in the dev build either: ${vacuous.join(', ')})` : ''}`,
    ].join('; '),
  }
}

export async function run({ library }) {
  if (library === 'ws') return { import: 'native WebSocket (browser)', minBytes: 0, gzipBytes: 0, viteDeltaBytes: 0 }
  if (library === 'vue-realtime') return vueRealtime()
  const use = USES[library]
  const r = await bundle(use.bundle)
  const result = { import: use.import, minBytes: r.minBytes, gzipBytes: r.gzipBytes }
  if (use.app) {
    const dir = path.join(SIZE, library)
    const base = await viteApp(path.join(dir, 'base'))
    result.viteDeltaBytes = (await viteApp(path.join(dir, 'use'), use.app)) - base
  }
  return result
}
