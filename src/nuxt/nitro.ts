/**
 * Build-time facts about the Nitro an app runs on, for the module's server route.
 */
import { existsSync, readFileSync, realpathSync } from 'node:fs'
import { dirname, join } from 'node:path'

/**
 * The directory of package `name` as seen from directory `from`, by Node's node_modules lookup
 * (package `exports` do not matter here: only the folder is wanted). Real paths, so a pnpm
 * layout resolves each package's own dependencies.
 */
function packageDir(name: string, from: string): string | undefined {
  let dir = from
  for (;;) {
    const candidate = join(dir, 'node_modules', name)
    if (existsSync(join(candidate, 'package.json'))) return realpathSync(candidate)
    const parent = dirname(dir)
    if (parent === dir) return undefined
    dir = parent
  }
}

/**
 * The version of crossws that Nitro bundles for this app, found along nuxt → (@nuxt/nitro-server)
 * → nitropack → crossws; undefined when the chain cannot be followed.
 */
export function nitroCrosswsVersion(rootDir: string): string | undefined {
  const nuxt = packageDir('nuxt', rootDir)
  if (!nuxt) return undefined
  // Nuxt 3 depends on nitropack itself; Nuxt 4 through @nuxt/nitro-server.
  const nitroServer = packageDir('@nuxt/nitro-server', nuxt)
  const nitropack = (nitroServer && packageDir('nitropack', nitroServer)) ?? packageDir('nitropack', nuxt)
  const crossws = nitropack && packageDir('crossws', nitropack)
  if (!crossws) return undefined
  return (JSON.parse(readFileSync(join(crossws, 'package.json'), 'utf8')) as { version?: string }).version
}

/**
 * Whether the route must name its subprotocol in the upgrade response: not with crossws 0.3,
 * whose Node adapter answers with the client's first one itself (see `protocolHeader`).
 */
export function needsProtocolHeader(crosswsVersion: string | undefined): boolean {
  return crosswsVersion !== undefined && !/^0\.[0-3]\./.test(crosswsVersion)
}
