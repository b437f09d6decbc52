/**
 * The vue-realtime Nuxt plugin with one socket per URL for all the tabs of the origin, which the
 * module registers instead of plugin.ts for `shareAcrossTabs: true` (see setup.ts).
 */
import { defineNuxtPlugin } from 'nuxt/app'
import { tabSharing } from 'vue-realtime'
import { setupRealtime } from './setup'

export default defineNuxtPlugin({
  name: 'vue-realtime',
  setup(nuxtApp): void {
    setupRealtime(nuxtApp, tabSharing)
  },
})
