/**
 * `vue-realtime/nuxt`: the Nuxt module (configKey `realtime`). Nuxt 4 (tested with 4.4; Nuxt 3 is not tested, so not declared).
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
import { addImports, addPlugin, addServerHandler, addServerImports, addServerPlugin, createResolver, defineNuxtModule, tryResolveModule, useLogger } from '@nuxt/kit'
import { autoImportsFor } from './imports'
import { nitroCrosswsVersion, needsProtocolHeader } from './nitro'
import { MODULE_DEFAULTS, type ModuleOptions, type RealtimePublicConfig } from './options'
import { moduleTabSharing } from './tabs'

export type { ModuleOptions, RealtimeAutoImports, RealtimeNuxtTabSharing, RealtimePublicConfig } from './options'

const NAME = 'vue-realtime'

export default defineNuxtModule<ModuleOptions>({
  meta: {
    name: NAME,
    configKey: 'realtime',
    compatibility: { nuxt: '>=4.0.0' },
  },
  defaults: MODULE_DEFAULTS,
  async setup(options, nuxt) {
    const logger = useLogger(NAME)
    const resolver = createResolver(import.meta.url)
    const path = options.path || MODULE_DEFAULTS.path
    if (!path.startsWith('/')) throw new Error(`[${NAME}/nuxt] realtime.path must start with "/", got "${path}". Write it as "/${path}".`)

    const tabs = moduleTabSharing(options.shareAcrossTabs)

    // Public runtime config: every key present, so each NUXT_PUBLIC_REALTIME_* variable overrides it.
    const existing = (nuxt.options.runtimeConfig.public.realtime ?? {}) as Partial<RealtimePublicConfig>
    const publicConfig: RealtimePublicConfig = {
      url: options.url ?? MODULE_DEFAULTS.url,
      path,
      devtools: options.devtools ?? MODULE_DEFAULTS.devtools,
      shareAcrossTabs: tabs.enabled,
      shareAcrossTabsName: tabs.name,
      ...existing,
    }
    nuxt.options.runtimeConfig.public.realtime = publicConfig

    // The runtime is shipped as source Nuxt compiles with the app (it imports `nuxt/app`).
    const runtimeDir = resolver.resolve('./runtime')
    nuxt.options.build.transpile.push(runtimeDir)
    addPlugin(resolver.resolve(tabs.enabled ? './runtime/plugin-tabs' : './runtime/plugin'))

    const hasPinia = !!(await tryResolveModule('pinia', nuxt.options.modulesDir))
    addImports(autoImportsFor(options.autoImports ?? true, hasPinia))

    if (options.server) {
      // Mounted through Nitro's crossws: nothing listens here, at build or dev time.
      // Typed only where the app's Nitro types are loaded (Nuxt 4 keeps them in @nuxt/nitro-server).
      const nitro = (nuxt.options as unknown as { nitro: { experimental?: Record<string, unknown> } }).nitro
      nitro.experimental = { ...nitro.experimental, websocket: true }
      const crossws = nitroCrosswsVersion(nuxt.options.rootDir)
      if (!crossws) logger.warn(`[${NAME}/nuxt] could not tell which crossws Nitro uses; assuming 0.3 (Nitro 2). If browsers fail the handshake, report it.`)
      const protocolHeader = needsProtocolHeader(crossws)
      const existingServer = (nuxt.options.runtimeConfig.realtimeServer ?? {}) as { protocolHeader?: boolean }
      nuxt.options.runtimeConfig.realtimeServer = { protocolHeader, ...existingServer }
      addServerHandler({ route: path, handler: resolver.resolve('./runtime/server/handler') })
      addServerPlugin(resolver.resolve('./runtime/server/plugin'))
      addServerImports([{ name: 'useRealtimeServer', from: resolver.resolve('./runtime/server/instance') }])
    }
  },
})
