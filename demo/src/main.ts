import { createPinia } from 'pinia'
import { createApp } from 'vue'
import App from './App.vue'
import { createRealtime } from './realtime'
import './styles.css'

const app = createApp(App)
// Defaults for every connection of the app: ping every 10 s so presence (15 s server heartbeat) stays fresh.
app.use(createRealtime({ heartbeat: { interval: 10_000, timeout: 5_000 } }))
app.use(createPinia())
app.mount('#app')
