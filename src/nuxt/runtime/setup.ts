/**
 * What the vue-realtime Nuxt plugin (universal) does. It installs `createRealtime` with the
 * app's default URL from `runtimeConfig.public.realtime`:
 * - on the server with an inert manager (no socket ever; composables and the store show `idle`);
 * - in the browser with a manager that opens connections once the app is mounted, so
 *   hydration sees exactly what the server rendered.
 * The module registers `plugin.ts`, or `plugin-tabs.ts` when `shareAcrossTabs` is on at build
 * time: tab sharing is code an app that does not use it should not ship. Each plugin file calls
 * `defineNuxtPlugin` itself, since Nuxt reads a plugin's metadata from its own file.
 */
import { useRequestURL, useRuntimeConfig, type NuxtApp } from 'nuxt/app'
import { createRealtime, type TabSharing } from 'vue-realtime'
import type { RealtimePublicConfig } from '../options'
import { HydrationManager, InertManager } from './managers'
import { resolveRealtimeUrl } from './url'

/**
 * The plugin's setup; `tabSharing` given by the plugin the module registers for `shareAcrossTabs`,
 * which builds the tab sharing from the runtime config (its group name, see tabSharing.ts).
 */
export function setupRealtime(nuxtApp: Pick<NuxtApp, 'vueApp' | 'hook'>, tabSharing?: (config: RealtimePublicConfig) => TabSharing): void {
  const runtimeConfig = useRuntimeConfig()
  const config = runtimeConfig.public.realtime as RealtimePublicConfig
  // `app` is typed by the app's generated types, which this package does not see.
  const { baseURL } = runtimeConfig.app as { baseURL: string }
  const url = resolveRealtimeUrl(config, useRequestURL().origin, baseURL)

  if (import.meta.server) {
    nuxtApp.vueApp.use(createRealtime({ url, devtools: false, manager: new InertManager() }))
    return
  }
  // The runtime value can turn sharing off (NUXT_PUBLIC_REALTIME_SHARE_ACROSS_TABS=false), not on:
  // a build without it has no tab-sharing code to turn on.
  const manager = new HydrationManager(tabSharing && config.shareAcrossTabs ? { shareAcrossTabs: tabSharing(config) } : {})
  nuxtApp.vueApp.use(createRealtime({ url, devtools: config.devtools, manager }))
  // A page that is not hydrated (client-only rendering) mounts too: `app:mounted` covers both.
  nuxtApp.hook('app:mounted', () => manager.hydrated())
}
