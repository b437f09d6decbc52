// Imports every entry of the installed package in Node and prints what it exports and where
// it was loaded from, as JSON (read by test/consumers/runtime.test.ts). `vue-realtime/nuxt` needs
// `@nuxt/kit` (a Nuxt app has it): test/e2e/nuxt.e2e.test.ts runs the built module in a Nuxt app.
const entries = ['vue-realtime', 'vue-realtime/pinia', 'vue-realtime/core', 'vue-realtime/server', 'vue-realtime/server/crossws']
const result = {}
for (const entry of entries) {
  const module = await import(entry)
  result[entry] = { resolved: import.meta.resolve(entry), exports: Object.keys(module).sort() }
}
process.stdout.write(JSON.stringify(result))
