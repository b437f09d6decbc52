// src/vue/devtools/hook.ts as it would be with @vue/devtools-api (dynamically imported in
// development, as Pinia does): the alternative bench/devtools-cost.mjs measures.
import type { App } from 'vue'
import type { DevtoolsPluginApi } from '../../src/vue/devtools/hook'

export type * from '../../src/vue/devtools/hook'
export const DEVTOOLS_ID = 'vue-realtime'

export function onDevtoolsApi(app: App, setup: (api: DevtoolsPluginApi) => void): void {
  if (typeof window === 'undefined') return
  void import('@vue/devtools-api').then(({ setupDevtoolsPlugin }) =>
    setupDevtoolsPlugin({ id: DEVTOOLS_ID, label: 'vue-realtime', packageName: 'vue-realtime', app: app as never }, (api) => setup(api as unknown as DevtoolsPluginApi)),
  )
}
