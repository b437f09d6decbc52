// The module's Nitro virtual module (src/nuxt/server.ts): the default export of the app's
// server/realtime.config.ts, or `{}`. The module registers the same declaration in the app's
// Nitro types (addTypeTemplate).
declare module '#vue-realtime/server-config' {
  const config: import('./config').RealtimeNuxtServerConfig<unknown>
  export default config
}
