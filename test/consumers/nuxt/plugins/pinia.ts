// Pinia, with its state carried from the server render to the client.
import { createPinia, type StateTree } from 'pinia'

export default defineNuxtPlugin({
  name: 'pinia',
  setup(nuxtApp) {
    const pinia = createPinia()
    nuxtApp.vueApp.use(pinia)
    if (import.meta.server) {
      nuxtApp.hook('app:rendered', () => {
        nuxtApp.payload.pinia = JSON.parse(JSON.stringify(pinia.state.value)) as Record<string, StateTree>
      })
    } else if (nuxtApp.payload.pinia) {
      pinia.state.value = nuxtApp.payload.pinia as Record<string, StateTree>
    }
  },
})
