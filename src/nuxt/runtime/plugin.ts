/** The vue-realtime Nuxt plugin: one socket per URL per tab (see setup.ts). */
import { defineNuxtPlugin } from 'nuxt/app'
import { setupRealtime } from './setup'

export default defineNuxtPlugin({
  name: 'vue-realtime',
  setup(nuxtApp): void {
    setupRealtime(nuxtApp)
  },
})
