/**
 * The Nuxt module's options (`realtime` in nuxt.config) and what reaches the app at runtime
 * (`runtimeConfig.public.realtime`). Types only, plus the defaults: shared by the module (build
 * time) and its runtime plugin.
 */

/** Which composables the module auto-imports. */
export interface RealtimeAutoImports {
  /** `useChannel`. @default true */
  useChannel?: boolean
  /** `useRealtimeStore`, when `pinia` is installed. @default true */
  useRealtimeStore?: boolean
  /**
   * `useWebSocket` under another name, since VueUse's Nuxt module auto-imports its own
   * `useWebSocket`: `true` for `useRealtimeSocket`, a string for another name, `false` for none.
   * @default true
   */
  useRealtimeSocket?: boolean | string
  /** `useRealtimeUrl` (the URL from this module's options, for `useRealtimeSocket(useRealtimeUrl())`). @default true */
  useRealtimeUrl?: boolean
}

/** `realtime` in nuxt.config. */
export interface ModuleOptions {
  /**
   * The WebSocket URL composables connect to by default (`useRealtimeUrl()`, and `useChannel`
   * without a `url`). Empty: the page's origin, plus `app.baseURL`, plus `path`, so the app
   * talks to its own server (the route `server: true` mounts, or a proxy). Override it at deploy
   * time with `NUXT_PUBLIC_REALTIME_URL`. A path such as `/ws` is resolved against the origin.
   * @default ''
   */
  url?: string
  /**
   * Path of the realtime endpoint under `app.baseURL`: where the default `url` points, and
   * where `server: true` mounts the protocol server.
   * @default '/_realtime'
   */
  path?: string
  /**
   * Mount the vue-realtime protocol server on a Nitro route at `path` (under `app.baseURL`),
   * through Nitro's crossws; `useRealtimeServer()` (auto-imported in server code) publishes from
   * your API routes. Its options (`authenticate`, `authorize`, `onRequest`, `origins`, limits, an
   * engine) are the default export of `server/realtime.config.ts` when the app has that file
   * (`export default defineRealtimeServerConfig({ ... })`, auto-imported there), or of the file
   * `{ config }` names. With the default memory engine, history lives in the Nitro process's
   * memory: one process, no workers, no clustering (see the SSR and Nuxt guide).
   * @default false
   */
  server?: boolean | RealtimeNuxtServer
  /**
   * Auto-import `useChannel`, `useRealtimeStore`, `useRealtimeUrl` and `useWebSocket` (as
   * `useRealtimeSocket`).
   * `false` imports none of them; an object turns single ones off.
   * @default true
   */
  autoImports?: boolean | RealtimeAutoImports
  /** The Vue Devtools timeline and inspector, in development. @default true */
  devtools?: boolean
  /**
   * Hold one socket per URL for all the tabs of the origin (see the tabs guide): `true` for
   * `tabSharing()` with its defaults, `{ name }` to share only with the tabs of apps that use
   * the same name. Decided at build time, since an app that does not share ships none of that
   * code; `NUXT_PUBLIC_REALTIME_SHARE_ACROSS_TABS=false` turns it off at deploy time and
   * `NUXT_PUBLIC_REALTIME_SHARE_ACROSS_TABS_NAME` sets the name. `via: 'worker'` is not a module
   * option (a SharedWorker cannot travel in the runtime config): pass
   * `shareAcrossTabs: tabSharing({ via: 'worker', worker })` to the connections that need it.
   * @default false
   */
  shareAcrossTabs?: boolean | RealtimeNuxtTabSharing
}

/** `realtime.server` as an object: the protocol server on the module's route, with its options in a file. */
export interface RealtimeNuxtServer {
  /**
   * The file whose default export gives the server's options: a path relative to the app's root
   * directory, or with a Nuxt alias (`~~/server/realtime.config`); the extension may be left
   * out. Options are code (`authenticate` is a function), so they live in a file Nitro bundles,
   * not in nuxt.config. A missing file fails the build.
   * @default '~~/server/realtime.config' (in the server directory) when that file exists; default options without it
   */
  config?: string
}

/** `realtime.shareAcrossTabs` as an object: tab sharing with the options the module can carry to the browser. */
export interface RealtimeNuxtTabSharing {
  /**
   * Tabs share a socket only with tabs that use the same `name` (and the same URL and
   * subprotocols): it is part of the Web Locks and BroadcastChannel names. Give two apps of one
   * origin, or two deployments that must not mix, different names. A non-empty string;
   * `NUXT_PUBLIC_REALTIME_SHARE_ACROSS_TABS_NAME` overrides it at deploy time.
   * @default undefined (the group of every app on the origin that gives no name)
   */
  name?: string
}

/** `runtimeConfig.public.realtime`: what the runtime plugin reads (env overrides apply). */
export interface RealtimePublicConfig {
  /** `url` of the module's options (`NUXT_PUBLIC_REALTIME_URL`). */
  url: string
  /** `path` of the module's options (`NUXT_PUBLIC_REALTIME_PATH`). */
  path: string
  /** `devtools` of the module's options (`NUXT_PUBLIC_REALTIME_DEVTOOLS`). */
  devtools: boolean
  /**
   * Whether tabs share sockets (`NUXT_PUBLIC_REALTIME_SHARE_ACROSS_TABS`): only a build with
   * `shareAcrossTabs` on can share, so this can turn sharing off at run time, not on.
   */
  shareAcrossTabs: boolean
  /**
   * `shareAcrossTabs.name`, `''` for none (`NUXT_PUBLIC_REALTIME_SHARE_ACROSS_TABS_NAME`). Nuxt
   * parses environment values, so a numeric name arrives as a number: read it with
   * `tabSharingOptions` (runtime/tabSharing.ts), which turns it back into a string.
   */
  shareAcrossTabsName: string
}

export const MODULE_DEFAULTS = {
  url: '',
  path: '/_realtime',
  server: false,
  autoImports: true,
  devtools: true,
  shareAcrossTabs: false,
} satisfies Required<ModuleOptions>
