// `realtime.server` at build time: the option checked (src/nuxt/server.ts), and the options file
// the module finds and bundles into Nitro as `#vue-realtime/server-config`, by loading the
// fixture app with Nuxt (no build). The route taking those options is proven in Chromium by
// test/e2e/nuxt.e2e.test.ts.
import { fileURLToPath } from 'node:url'
import { loadNuxt, logger } from '@nuxt/kit'
import type { NuxtConfig } from '@nuxt/schema'
import { describe, expect, it } from 'vitest'
import { moduleServer, SERVER_CONFIG_MODULE, serverConfigSource, unusedServerConfig } from '../../src/nuxt/server'
import type { ModuleOptions } from '../../src/nuxt/options'
import { singleServer } from '../../src/nuxt/runtime/server/single'
import { memoryEngine, type RealtimeEngine } from '../../src/server'

const FIXTURE = fileURLToPath(new URL('./fixture/', import.meta.url))

describe('realtime.server', () => {
  it('is off by default; true or { config } mounts the route', () => {
    expect(moduleServer(undefined)).toEqual({ enabled: false })
    expect(moduleServer(false)).toEqual({ enabled: false })
    expect(moduleServer(true)).toEqual({ enabled: true })
    expect(moduleServer({})).toEqual({ enabled: true })
    expect(moduleServer({ config: '~~/realtime/server' })).toEqual({ enabled: true, config: '~~/realtime/server' })
  })

  it('refuses what it cannot take, naming the fix', () => {
    expect(() => moduleServer('yes')).toThrow(/realtime\.server must be true, false or \{ config \}, got "yes"/)
    expect(() => moduleServer([])).toThrow(/got an array/)
    // Server options are code: they belong in the options file, not in nuxt.config.
    expect(() => moduleServer({ origins: ['https://a.example'] })).toThrow(/unknown option "origins".*server\/realtime\.config\.ts: `export default defineRealtimeServerConfig/)
    expect(() => moduleServer({ config: '' })).toThrow(/realtime\.server\.config must be a file path/)
    expect(() => moduleServer({ config: 3 })).toThrow(/must be a file path .*got 3/)
  })

  it("bundles the options file's default export, or no options", () => {
    expect(serverConfigSource('/app/server/realtime.config.ts')).toBe('export { default } from "/app/server/realtime.config.ts"\n')
    expect(serverConfigSource(undefined)).toBe('export default {}\n')
  })
})

/** Loads the fixture app with `realtime.server` set to `server` and returns its options module's source. */
async function configModule(server: ModuleOptions['server']): Promise<string> {
  const nuxt = await loadNuxt({ cwd: FIXTURE, ready: true, overrides: { realtime: { server }, telemetry: false } as NuxtConfig })
  try {
    const virtual = (nuxt.options as unknown as { nitro: { virtual?: Record<string, () => string> } }).nitro.virtual ?? {}
    const source = virtual[SERVER_CONFIG_MODULE]
    if (!source) throw new Error(`the module registered no ${SERVER_CONFIG_MODULE}`)
    return source()
  } finally {
    await nuxt.close()
  }
}

describe('the options file, as the module finds it in an app', () => {
  it("is the app's server/realtime.config.ts by default, or the file realtime.server.config names", async () => {
    expect(await configModule(true)).toBe(serverConfigSource(`${FIXTURE}server/realtime.config.ts`))
    expect(await configModule({ config: '~~/server/plugins/connections' })).toBe(serverConfigSource(`${FIXTURE}server/plugins/connections.ts`))
    expect(await configModule({ config: 'server/plugins/connections.ts' })).toBe(serverConfigSource(`${FIXTURE}server/plugins/connections.ts`))
  }, 60_000)

  it("warns when the app has server/realtime.config.ts but realtime.server is off (nothing reads it)", async () => {
    const warnings: string[] = []
    const reporter = { log: (entry: { type: string; args: unknown[] }) => void (entry.type === 'warn' && warnings.push(entry.args.map(String).join(' '))) }
    logger.addReporter(reporter)
    try {
      const nuxt = await loadNuxt({ cwd: FIXTURE, ready: true, overrides: { realtime: { server: false }, telemetry: false } as NuxtConfig })
      await nuxt.close()
    } finally {
      logger.removeReporter(reporter)
    }
    expect(warnings.filter((w) => w.includes('vue-realtime'))).toEqual([unusedServerConfig(`${FIXTURE}server/realtime.config.ts`)])
  }, 60_000)

  it('fails the build when the file realtime.server.config names does not exist', async () => {
    await expect(configModule({ config: '~~/server/nowhere' })).rejects.toThrow(/realtime\.server\.config names "~~\/server\/nowhere", but there is no such file/)
  }, 60_000)
})

describe("the module's one server per Nitro process", () => {
  /** A memory engine whose close() is counted. */
  function countedEngine(): { engine: RealtimeEngine; closed: () => number } {
    const engine = memoryEngine()
    let closed = 0
    const close = engine.close.bind(engine)
    engine.close = async () => {
      closed++
      await close()
    }
    return { engine, closed: () => closed }
  }

  it('is made once, on first use, with the options and the subprotocol header read then', async () => {
    let reads = 0
    const single = singleServer({ historyLimit: 3 }, () => {
      reads++
      return false
    })
    expect(reads).toBe(0)
    const server = single.use()
    expect(single.use()).toBe(server)
    expect(reads).toBe(1)
    await server.ready
    for (const n of [1, 2, 3, 4]) await server.publish('room:a', n)
    // historyLimit 3 reached the server: the oldest message is gone from the history.
    expect((await server.engine.history('room:a', { limit: 10 })).messages.map((m) => m.seq)).toEqual([2, 3, 4])
    await single.close()
  })

  it("closes the server, then the engine the options passed (even when no server was made); a later use makes a new one", async () => {
    const used = countedEngine()
    const single = singleServer({ engine: used.engine }, () => false)
    const server = single.use()
    await server.ready
    await single.close()
    expect(used.closed()).toBe(1)
    await expect(server.publish('room:a', 1)).rejects.toThrow(/after close\(\)/)

    const unused = countedEngine()
    await singleServer({ engine: unused.engine }, () => false).close()
    expect(unused.closed()).toBe(1)

    const again = singleServer({}, () => false)
    const first = again.use()
    await again.close()
    const second = again.use()
    expect(second).not.toBe(first)
    await second.ready
    await again.close()
  })

  it('refuses an options file that exports no object, naming the fix', async () => {
    for (const [config, got] of [[undefined, 'undefined'], [null, 'null'], [[], 'an array'], [() => ({}), 'function']] as const) {
      const single = singleServer(config, () => false)
      expect(() => single.use()).toThrow(`must export default an object, got ${got}. Write \`export default defineRealtimeServerConfig({ ... })\``)
      await single.close()
    }
  })
})
