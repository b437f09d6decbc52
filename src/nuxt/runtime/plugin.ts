/**
 * The vue-realtime Nuxt plugin (universal). It installs `createRealtime` with the app's
 * default URL from `runtimeConfig.public.realtime`:
 * - on the server with an inert manager (no socket ever; composables and the store show `idle`);
 * - in the browser with a manager that opens connections once the app is mounted, so
 *   hydration sees exactly what the server rendered.
 */
import { defineNuxtPlugin, useRequestURL, useRuntimeConfig } from 'nuxt/app'
import { createRealtime } from 'vue-realtime'
import type { RealtimePublicConfig } from '../options'
import { HydrationManager, InertManager } from './managers'
import { resolveRealtimeUrl } from './url'

export default defineNuxtPlugin({
  name: 'vue-realtime',
  setup(nuxtApp) {
    const runtimeConfig = useRuntimeConfig()
    const config = runtimeConfig.public.realtime as RealtimePublicConfig
    // `app` is typed by the app's generated types, which this package does not see.
    const { baseURL } = runtimeConfig.app as { baseURL: string }
    const url = resolveRealtimeUrl(config, useRequestURL().origin, baseURL)

    if (import.meta.server) {
      nuxtApp.vueApp.use(createRealtime({ url, devtools: false, manager: new InertManager() }))
      return
    }
    const manager = new HydrationManager()
    nuxtApp.vueApp.use(createRealtime({ url, devtools: config.devtools, manager }))
    // A page that is not hydrated (client-only rendering) mounts too: `app:mounted` covers both.
    nuxtApp.hook('app:mounted', () => manager.hydrated())
  },
})
