import { createApp } from 'vue'
import { createPinia } from 'pinia'
import { createRealtime } from 'vue-realtime'
import App from './App.vue'

// The tier passes its loopback server as ?ws=; nothing here ever reaches another host.
const url = new URLSearchParams(location.search).get('ws') ?? undefined

createApp(App)
  .use(createPinia())
  .use(createRealtime({ url, heartbeat: false }))
  .mount('#app')
