#!/usr/bin/env node
/**
 * `npm run demo`: the chat server (demo/server.ts, bundled with esbuild since Node cannot run
 * TypeScript) and the Vite dev server of the site, in this one process. The site reaches the
 * chat server through Vite's `/ws` proxy, so it uses a same-origin URL. Ctrl-C stops both.
 *
 * Environment: PORT (chat server, default 8787), SITE_PORT (site, default 5173 or the next
 * free one), DEMO_DATA (history directory, default demo/.data: SQLite, realtime.db).
 */
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { build } from 'esbuild'
import { createServer } from 'vite'

const demoDir = fileURLToPath(new URL('.', import.meta.url))
const rootDir = fileURLToPath(new URL('..', import.meta.url))
const host = '127.0.0.1'
const chatPort = Number(process.env.PORT ?? 8787)
const sitePort = Number(process.env.SITE_PORT ?? 5173)
const dataDir = process.env.DEMO_DATA ?? fileURLToPath(new URL('./.data', import.meta.url))

async function startChat() {
  const outfile = fileURLToPath(new URL('../node_modules/.cache/vue-realtime-demo/server.mjs', import.meta.url))
  await build({
    entryPoints: [fileURLToPath(new URL('./server.ts', import.meta.url))],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    // The Redis engine's scripts (src/server/redis/*.lua) are inlined as text.
    loader: { '.lua': 'text' },
    logLevel: 'warning',
  })
  const { startChatServer } = await import(pathToFileURL(outfile).href)
  await mkdir(dataDir, { recursive: true })
  return startChatServer({ port: chatPort, host, dataDir })
}

let chat
let site
try {
  chat = await startChat()
} catch (error) {
  const hint = error?.code === 'EADDRINUSE' ? ` Port ${chatPort} is in use: stop the other process or run PORT=<free port> npm run demo.` : ''
  console.error(`demo: the chat server did not start: ${error?.message ?? error}.${hint}`)
  process.exit(1)
}

try {
  process.env.DEMO_WS_TARGET = `ws://${host}:${chat.port}`
  site = await createServer({
    configFile: fileURLToPath(new URL('./vite.config.ts', import.meta.url)),
    root: demoDir,
    server: { host, port: sitePort, strictPort: false },
  })
  await site.listen()
} catch (error) {
  console.error(`demo: the site did not start: ${error?.message ?? error}`)
  await chat.close({ code: 1001, reason: 'demo stopped' })
  process.exit(1)
}

const siteUrl = site.resolvedUrls?.local[0] ?? `http://${host}:${sitePort}/`
console.log(`\n  vue-realtime chat demo\n\n  ➜  Open ${siteUrl}\n  ➜  Chat server ws://${host}:${chat.port}/ws (history in ${join(dataDir, 'realtime.db').replace(rootDir, '')})\n  ➜  Ctrl-C stops both\n`)

let stopping = false
async function stop(signal) {
  if (stopping) process.exit(130) // a second Ctrl-C: don't wait for graceful closes
  stopping = true
  console.log(`\ndemo: ${signal}, stopping…`)
  const force = setTimeout(() => process.exit(1), 5000)
  force.unref()
  await Promise.allSettled([chat.close({ code: 1001, reason: 'demo stopped' }), site.close()])
  process.exit(0)
}
process.on('SIGINT', () => stop('SIGINT'))
process.on('SIGTERM', () => stop('SIGTERM'))
