import { fileURLToPath } from 'node:url'
import vue from '@vitejs/plugin-vue'
import { defineConfig } from 'vite'

const src = (p: string) => fileURLToPath(new URL(`../src/${p}`, import.meta.url))

/**
 * The demo site. `npm run demo` (demo/start.mjs) runs it with the chat server and sets
 * DEMO_WS_TARGET; `/ws` is proxied there so the site connects same-origin.
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  plugins: [vue()],
  resolve: {
    alias: [
      { find: /^vue-realtime$/, replacement: src('index.ts') },
      { find: /^vue-realtime\/core$/, replacement: src('core/index.ts') },
      { find: /^vue-realtime\/pinia$/, replacement: src('pinia/index.ts') },
    ],
  },
  server: {
    host: '127.0.0.1',
    port: 5173,
    proxy: {
      '/ws': { target: process.env.DEMO_WS_TARGET ?? 'ws://127.0.0.1:8787', ws: true },
    },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
  },
})
