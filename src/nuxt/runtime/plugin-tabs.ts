/**
 * The vue-realtime Nuxt plugin with one socket per URL for all the tabs of the origin, which the
 * module registers instead of plugin.ts for `shareAcrossTabs: true | { name }` (see setup.ts).
 */
import { defineNuxtPlugin } from 'nuxt/app'
import { tabSharing } from 'vue-realtime'
import { setupRealtime } from './setup'
import { tabSharingOptions } from './tabSharing'

export default defineNuxtPlugin({
  name: 'vue-realtime',
  setup(nuxtApp): void {
    setupRealtime(nuxtApp, (config) => tabSharing(tabSharingOptions(config)))
  },
})
