// The docs theme: VitePress's default, plus the live demos (they run against an in-page
// server, since a static site has no backend).
import DefaultTheme from 'vitepress/theme'
import type { Theme } from 'vitepress'
import ChannelDemo from './demo/ChannelDemo.vue'
import ConnectionDemo from './demo/ConnectionDemo.vue'
import './demo/demo.css'

export default {
  extends: DefaultTheme,
  enhanceApp({ app }) {
    app.component('ChannelDemo', ChannelDemo)
    app.component('ConnectionDemo', ConnectionDemo)
  },
} satisfies Theme
