/**
 * `tabSharing()`'s options from the public runtime config, in the browser: the group name the
 * module wrote at build time, or the one `NUXT_PUBLIC_REALTIME_SHARE_ACROSS_TABS_NAME` gave at
 * deploy time. Pure, and free of the tab-sharing code itself (plugin-tabs.ts brings that).
 */
import type { TabSharingOptions } from 'vue-realtime'

/**
 * The options for `tabSharing(...)`: `{ name }`, or `{}` (the defaults) without a name.
 * @param config `runtimeConfig.public.realtime`. Its name is typed `unknown` because Nuxt parses
 * environment values: `NUXT_PUBLIC_REALTIME_SHARE_ACROSS_TABS_NAME=2026` arrives as the number
 * 2026 (and `true` as a boolean), which is turned back into the string the variable held.
 */
export function tabSharingOptions(config: { readonly shareAcrossTabsName?: unknown }): TabSharingOptions {
  const value = config.shareAcrossTabsName
  const name = typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : ''
  return name.trim() === '' ? {} : { name }
}
