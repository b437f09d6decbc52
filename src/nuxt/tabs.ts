/**
 * `realtime.shareAcrossTabs` checked at build time: nuxt.config may be JavaScript, and only what
 * the public runtime config can carry to the browser (a name) is a module option. The runtime
 * side, which turns the runtime config into `tabSharing()`'s options, is runtime/tabSharing.ts.
 */
import type { RealtimeNuxtTabSharing } from './options'

const PREFIX = '[vue-realtime/nuxt] realtime.shareAcrossTabs'

/** What the module makes of `shareAcrossTabs`: which plugin to register, and the runtime config's name. */
export interface ModuleTabSharing {
  /** Register the plugin that bundles the tab-sharing code. */
  enabled: boolean
  /** `runtimeConfig.public.realtime.shareAcrossTabsName`: `''` for none. */
  name: string
}

/** The keys of `RealtimeNuxtTabSharing`, to tell a misspelt one from a supported one. */
const KNOWN: ReadonlySet<string> = new Set(['name'] satisfies Array<keyof RealtimeNuxtTabSharing>)

/** `TabSharingOptions` keys the module cannot take, with why and what to do instead. */
const PER_CONNECTION = ['via', 'worker']

const shown = (value: unknown): string => (typeof value === 'string' ? JSON.stringify(value) : Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value === 'object' ? 'an object' : String(value))

/**
 * Checks `realtime.shareAcrossTabs` and says what it turns on; throws an error that names the
 * cause and the fix for anything the module cannot carry to the browser.
 */
export function moduleTabSharing(option: unknown): ModuleTabSharing {
  if (option === undefined || option === false) return { enabled: false, name: '' }
  if (option === true) return { enabled: true, name: '' }
  if (typeof option !== 'object' || option === null || Array.isArray(option)) {
    throw new Error(`${PREFIX} must be true, false or { name }, got ${shown(option)}. Write \`shareAcrossTabs: true\`, or \`shareAcrossTabs: { name: 'my-app' }\` to share only with tabs of that name.`)
  }
  const keys = Object.keys(option)
  const perConnection = keys.filter((key) => PER_CONNECTION.includes(key))
  if (perConnection.length > 0) {
    throw new Error(
      `${PREFIX} cannot take ${perConnection.map((key) => `"${key}"`).join(' or ')} in nuxt.config: the module shares through Web Locks and BroadcastChannel, and \`via: 'worker'\` needs a SharedWorker, which cannot be serialised into the runtime config. ` +
        `Remove it here and pass \`shareAcrossTabs: tabSharing({ via: 'worker', worker })\` (tabSharing from 'vue-realtime') per connection instead, e.g. \`useRealtimeSocket(url, { shareAcrossTabs: tabSharing({ via: 'worker', worker }) })\`.`,
    )
  }
  const unknown = keys.filter((key) => !KNOWN.has(key))
  if (unknown.length > 0) {
    throw new Error(`${PREFIX} has unknown option${unknown.length > 1 ? 's' : ''} ${unknown.map((key) => `"${key}"`).join(', ')}: the module takes only { name }. Remove ${unknown.length > 1 ? 'them' : 'it'} or check the spelling.`)
  }
  const { name } = option as { name?: unknown }
  if (name === undefined) return { enabled: true, name: '' }
  if (typeof name !== 'string') {
    const quoted = typeof name === 'number' || typeof name === 'boolean' ? `Write it in quotes (name: '${String(name)}')` : `Give a string such as 'my-app'`
    throw new Error(`${PREFIX}.name must be a string, got ${shown(name)}. ${quoted}, or leave name out for the default group.`)
  }
  if (name.trim() === '') {
    throw new Error(`${PREFIX}.name is empty. Give a name such as 'my-app', or leave name out for the default group.`)
  }
  return { enabled: true, name }
}
