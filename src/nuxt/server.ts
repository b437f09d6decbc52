/**
 * `realtime.server` checked at build time, and the server's options file found: the module
 * bundles that file into Nitro as the virtual module `#vue-realtime/server-config`, which the
 * runtime's `useRealtimeServer()` (runtime/server/instance.ts) reads.
 */
import type { RealtimeNuxtServer } from './options'

const PREFIX = '[vue-realtime/nuxt] realtime.server'

/** The name the runtime imports the server's options by (a Nitro virtual module). */
export const SERVER_CONFIG_MODULE = '#vue-realtime/server-config'

/** The file looked for when `server: true` names none, in the app's server directory, without its extension. */
export const DEFAULT_SERVER_CONFIG = 'realtime.config'

/** What the module makes of `server`: whether to mount the route, and the options file asked for. */
export interface ModuleServer {
  enabled: boolean
  /** `server.config` as written (an alias or a path relative to the root directory); undefined: look for the default file. */
  config?: string
}

const KNOWN: ReadonlySet<string> = new Set(['config'] satisfies Array<keyof RealtimeNuxtServer>)

/** Checks `realtime.server`; throws an error that names the cause and the fix. */
export function moduleServer(option: unknown): ModuleServer {
  if (option === undefined || option === false) return { enabled: false }
  if (option === true) return { enabled: true }
  if (typeof option !== 'object' || option === null || Array.isArray(option)) {
    throw new Error(`${PREFIX} must be true, false or { config }, got ${Array.isArray(option) ? 'an array' : JSON.stringify(option) ?? String(option)}. Write \`server: true\`, and put the server's options in server/${DEFAULT_SERVER_CONFIG}.ts.`)
  }
  const unknown = Object.keys(option).filter((key) => !KNOWN.has(key))
  if (unknown.length > 0) {
    throw new Error(
      `${PREFIX} has unknown option${unknown.length > 1 ? 's' : ''} ${unknown.map((key) => `"${key}"`).join(', ')}: it takes only { config }, the file that exports the server's options. ` +
        `Move server options (authenticate, origins, limits...) into server/${DEFAULT_SERVER_CONFIG}.ts: \`export default defineRealtimeServerConfig({ ... })\`.`,
    )
  }
  const { config } = option as { config?: unknown }
  if (config === undefined) return { enabled: true }
  if (typeof config !== 'string' || config.trim() === '') {
    throw new Error(`${PREFIX}.config must be a file path such as '~~/server/${DEFAULT_SERVER_CONFIG}', got ${JSON.stringify(config) ?? String(config)}. Leave it out to use server/${DEFAULT_SERVER_CONFIG}.ts when it exists.`)
  }
  return { enabled: true, config }
}

/** The error for a `server.config` that names no file. */
export function missingServerConfig(config: string, resolved: string): Error {
  return new Error(`${PREFIX}.config names "${config}", but there is no such file (looked for ${resolved} with .ts, .mjs, .js and the other extensions Nuxt resolves). Create it, or fix the path; paths are relative to the app's root directory.`)
}

/** The warning for an options file that nothing reads: `realtime.server` is off. */
export function unusedServerConfig(file: string): string {
  return `[vue-realtime/nuxt] ${file} is not used: realtime.server is off, so no protocol server runs on a Nitro route. Set \`realtime: { server: true }\` in nuxt.config to mount it with these options, or remove the file.`
}

/**
 * The source of `#vue-realtime/server-config`: the options file's default export, or no options.
 * `file` is an absolute path.
 */
export function serverConfigSource(file: string | undefined): string {
  return file ? `export { default } from ${JSON.stringify(file)}\n` : 'export default {}\n'
}
