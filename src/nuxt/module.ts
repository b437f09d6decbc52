/**
 * `vue-realtime/nuxt`: the Nuxt module (configKey `realtime`). Nuxt 3.15+ and 4.
 *
 * ```ts
 * export default defineNuxtConfig({ modules: ['vue-realtime/nuxt'], realtime: { server: true } })
 * ```
 *
 * It adds the universal plugin (the app's manager, inert on the server), the auto-imports,
 * the public runtime config (`NUXT_PUBLIC_REALTIME_URL` and friends override it at deploy time)
 * and, with `server: true`, the protocol server on a Nitro route. It never starts a server of
 * its own at build or dev time.
 * @module vue-realtime/nuxt
 */
import { addImports, addPlugin, createResolver, defineNuxtModule, tryResolveModule, useLogger } from '@nuxt/kit'
import { autoImportsFor } from './imports'
import { MODULE_DEFAULTS, type ModuleOptions, type RealtimePublicConfig } from './options'

export type { ModuleOptions, RealtimeAutoImports, RealtimePublicConfig } from './options'

const NAME = 'vue-realtime'

export default defineNuxtModule<ModuleOptions>({
  meta: {
    name: NAME,
    configKey: 'realtime',
    compatibility: { nuxt: '>=3.15.0' },
  },
  defaults: MODULE_DEFAULTS,
  async setup(options, nuxt) {
    const logger = useLogger(NAME)
    const resolver = createResolver(import.meta.url)
    const path = options.path || MODULE_DEFAULTS.path
    if (!path.startsWith('/')) throw new Error(`[${NAME}/nuxt] realtime.path must start with "/", got "${path}". Write it as "/${path}".`)

    // Public runtime config: every key present, so each NUXT_PUBLIC_REALTIME_* variable overrides it.
    const existing = (nuxt.options.runtimeConfig.public.realtime ?? {}) as Partial<RealtimePublicConfig>
    const publicConfig: RealtimePublicConfig = {
      url: options.url ?? MODULE_DEFAULTS.url,
      path,
      devtools: options.devtools ?? MODULE_DEFAULTS.devtools,
      shareAcrossTabs: options.shareAcrossTabs ?? MODULE_DEFAULTS.shareAcrossTabs,
      ...existing,
    }
    nuxt.options.runtimeConfig.public.realtime = publicConfig

    // The runtime is shipped as source Nuxt compiles with the app (it imports `nuxt/app`).
    const runtimeDir = resolver.resolve('./runtime')
    nuxt.options.build.transpile.push(runtimeDir)
    addPlugin(resolver.resolve('./runtime/plugin'))

    const hasPinia = !!(await tryResolveModule('pinia', nuxt.options.modulesDir))
    addImports(autoImportsFor(options.autoImports ?? true, hasPinia))

    if (options.server) {
      logger.warn(`[${NAME}/nuxt] realtime.server is not available in this version; run createRealtimeServer() beside Nuxt and set realtime.url.`)
    }
  },
})
