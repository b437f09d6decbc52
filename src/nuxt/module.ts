/**
 * `vue-realtime/nuxt`: the Nuxt module (configKey `realtime`). Nuxt 4 (tested with 4.4; Nuxt 3 is not tested, so not declared).
 *
 * ```ts
 * export default defineNuxtConfig({ modules: ['vue-realtime/nuxt'], realtime: { server: true } })
 * ```
 *
 * It adds the universal plugin (the app's manager, inert on the server), the auto-imports,
 * the public runtime config (`NUXT_PUBLIC_REALTIME_URL` and friends override it at deploy time)
 * and, with `server: true`, the protocol server on a Nitro route, with the options that the
 * app's `server/realtime.config.ts` exports. It never starts a server of its own at build or
 * dev time.
 * @module vue-realtime/nuxt
 */
import { join } from 'node:path'
import { addImports, addPlugin, addServerHandler, addServerImports, addServerPlugin, addServerTemplate, addTypeTemplate, createResolver, defineNuxtModule, findPath, resolvePath, tryResolveModule, useLogger } from '@nuxt/kit'
import { autoImportsFor } from './imports'
import { nitroCrosswsVersion, needsProtocolHeader } from './nitro'
import { MODULE_DEFAULTS, type ModuleOptions, type RealtimePublicConfig } from './options'
import { DEFAULT_SERVER_CONFIG, missingServerConfig, moduleServer, SERVER_CONFIG_MODULE, serverConfigSource, unusedServerConfig } from './server'
import { moduleTabSharing } from './tabs'

export type { ModuleOptions, RealtimeAutoImports, RealtimeNuxtServer, RealtimeNuxtTabSharing, RealtimePublicConfig } from './options'
export type { RealtimeNuxtServerConfig } from './runtime/server/config'

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
    const server = moduleServer(options.server)

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
    addImports(autoImportsFor(options.autoImports ?? true, hasPinia, resolver.resolve('../pinia/index')))

    if (server.enabled) {
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
      addServerImports([
        { name: 'useRealtimeServer', from: resolver.resolve('./runtime/server/instance') },
        { name: 'defineRealtimeServerConfig', from: resolver.resolve('./runtime/server/config') },
      ])
      // The server's options: code (authenticate is a function), so a file Nitro bundles.
      let configFile: string | undefined
      if (server.config) {
        const resolved = await resolvePath(server.config, { cwd: nuxt.options.rootDir })
        configFile = (await findPath(resolved)) ?? undefined
        if (!configFile) throw missingServerConfig(server.config, resolved)
      } else {
        configFile = (await findPath(join(nuxt.options.serverDir, DEFAULT_SERVER_CONFIG))) ?? undefined
      }
      addServerTemplate({ filename: SERVER_CONFIG_MODULE, getContents: () => serverConfigSource(configFile) })
      addTypeTemplate(
        {
          filename: 'types/vue-realtime-server-config.d.ts',
          getContents: () =>
            `declare module '${SERVER_CONFIG_MODULE}' {\n  const config: import(${JSON.stringify(resolver.resolve('./runtime/server/config'))}).RealtimeNuxtServerConfig<unknown>\n  export default config\n}\n`,
        },
        // Both: the app's own typecheck also reaches the runtime through Nitro's auto-import types.
        { nitro: true, nuxt: true },
      )
    } else {
      const unused = await findPath(join(nuxt.options.serverDir, DEFAULT_SERVER_CONFIG))
      if (unused) logger.warn(unusedServerConfig(unused))
    }
  },
})
