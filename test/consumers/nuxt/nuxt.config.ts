// A user's Nuxt app on the packed tarball: `vue-realtime/nuxt` resolves through the installed
// package's `exports`, and the protocol server runs on the app's own Nitro route with the
// options of server/realtime.config.ts (test/consumers/nuxt.test.ts).
export default defineNuxtConfig({
  modules: ['vue-realtime/nuxt'],
  realtime: { server: true },
  devtools: { enabled: false },
  telemetry: false,
  compatibilityDate: '2025-07-15',
})
