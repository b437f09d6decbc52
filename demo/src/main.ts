import { createPinia } from 'pinia'
import { createApp } from 'vue'
import App from './App.vue'
import { createRealtime } from './realtime'
import './styles.css'

const app = createApp(App)
// Defaults for every connection of the app: ping every 10 s so presence (15 s server heartbeat) stays
// fresh; the tabs of a browser where the same user is signed in share one socket (the tab-sharing
// code loads on first use, in a chunk of its own).
app.use(createRealtime({ heartbeat: { interval: 10_000, timeout: 5_000 }, shareAcrossTabs: true }))
app.use(createPinia())
app.mount('#app')
