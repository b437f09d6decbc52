/**
 * What a docs block needs around it to compile on its own (see blocks.ts), keyed by
 * `<page>/<section>#<index>` (`channels/tokens#1`): a prelude (imports, and declarations of the
 * names a fragment only uses: the app, a store, a URL), an epilogue (exports, so create-vite's
 * noUnusedLocals accepts a block that lists names), sibling files (the `App.vue` a `main.ts`
 * imports), or the target when the import-based guess is wrong (a server fragment without its
 * import). A block that needs nothing is not listed.
 * When a docs edit breaks a block, fix the block; change this only when the block is right.
 */
import { exportDestructured } from '../readme/context'
import type { DocsTarget } from './blocks'

export interface DocsContext {
  prelude?: string
  /** Text after the block, or a function of the block's code that returns it. */
  epilogue?: string | ((code: string) => string)
  files?: Record<string, string>
  target?: DocsTarget
}

const imports = (from: string, ...names: string[]): string => `import { ${names.join(', ')} } from '${from}'\n`
/** The app a fragment's `app.use(...)` installs into. */
const APP = `${imports('vue', 'createApp')}const app = createApp({})\n`
const URL_ = `const url = 'wss://example.com/ws'\n`
/** The store of the app's login, as the guide's token examples use it. */
const AUTH = `declare const auth: { accessToken: string; refresh(): Promise<void> }\n`
const SERVER = imports('vue-realtime/server', 'createRealtimeServer')
const appOf = (component: string): string =>
  `<script setup lang="ts">\nimport ${component} from './${component}.vue'\n</script>\n\n<template><${component} /></template>\n`

export const DOCS_CONTEXT: Record<string, DocsContext> = {
  'index/try-it-in-the-page#1': { prelude: imports('vue-realtime', 'useChannel'), epilogue: exportDestructured },
  'index/one-connection-explained#1': { prelude: imports('vue-realtime', 'useWebSocket') + URL_, epilogue: exportDestructured },

  'getting-started/a-first-connection#1': { files: { 'App.vue': appOf('Prices') } },

  'channels/top#1': {
    // A schema library's validator (zod, valibot...) and the app's own reload.
    prelude: 'declare const ChatMessage: { parse(value: unknown): { text: string } }\ndeclare function reloadSnapshot(): void\n',
    epilogue: exportDestructured,
  },
  'channels/which-url#1': { prelude: APP + imports('vue-realtime', 'createRealtime', 'useChannel') },
  'channels/tokens#1': {
    prelude: APP + URL_ + imports('vue-realtime', 'createRealtime', 'useChannel') + 'declare function useAuthStore(): { accessToken: string }\n',
  },
  'channels/tokens#2': { target: 'node', prelude: SERVER + 'declare const users: { byToken(token: string): Promise<{ name: string } | null> }\n' },
  'channels/tokens#3': {
    prelude: imports('vue', 'watch') + imports('vue-realtime', 'useChannel') + AUTH + "const { lastClose, reconnect } = useChannel('room:general')\n",
  },

  'devtools/top#1': { prelude: APP + imports('vue-realtime', 'createRealtime') },
  'devtools/your-own-sink#1': { prelude: APP },

  'performance/when-messages-updates#1': {
    prelude: imports('vue-realtime', 'useWebSocket') + URL_ + 'interface Tick { symbol: string; price: number }\n',
    epilogue: 'export { messages, exact }\n',
  },
  'performance/reconnecting-without-stampeding-the-server#1': { prelude: imports('vue-realtime', 'createRealtime') },
  // A server's shutdown, shown without making the server (the section is about close()).
  'performance/reconnecting-without-stampeding-the-server#2': { target: 'node', prelude: SERVER + 'const server = createRealtimeServer()\n' },

  'pinia/top#1': { epilogue: 'export { realtime }\n' },
  'pinia/state-and-getters#1': { prelude: imports('vue-realtime/pinia', 'useRealtimeStore') + 'const realtime = useRealtimeStore()\n' },

  // The server's options, shown without the import (the page is about them).
  'security/cross-site-websocket-hijacking#1': {
    target: 'node',
    prelude: SERVER + "import type { RealtimeServerOptions } from 'vue-realtime/server'\ndeclare const authenticate: NonNullable<RealtimeServerOptions['authenticate']>\n",
  },
  'security/cross-site-websocket-hijacking#2': { target: 'node', prelude: SERVER },
  'security/upgrades-that-never-finish#1': { target: 'node', prelude: SERVER },
  'security/tokens-never-leak#1': {
    prelude: APP + URL_ + AUTH + imports('vue-realtime', 'createRealtime') + "declare const token: string\n",
  },

  'ssr-nuxt/server-rendering-with-vue#1': { files: { 'App.vue': `<script setup lang="ts">\nimport { useWebSocket } from 'vue-realtime'\n\nconst { status } = useWebSocket('wss://example.com/ws')\n</script>\n\n<template><p>{{ status }}</p></template>\n` } },
  // The app's own token check: the module's server options file, and a route of its own.
  'ssr-nuxt/the-protocol-server-on-a-nitro-route#3': { prelude: "declare function verifyToken(token: string): Promise<{ name: string; role: 'admin' | 'member' } | null>\n" },
  'ssr-nuxt/the-protocol-server-on-a-nitro-route#4': { prelude: 'declare function verifyToken(token: string): Promise<{ name: string } | null>\n' },

  'tabs/top#1': { prelude: APP },
  // A Nuxt component: the module's auto-imports (useRealtimeSocket, useRealtimeUrl).
  'tabs/in-nuxt#2': { target: 'nuxt' },
  'tabs/testing#1': { epilogue: 'export { b, tab }\n' },
}
