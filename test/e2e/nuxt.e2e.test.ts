// The built Nuxt module on a fixture app (test/nuxt/fixture, `realtime: { server: true }`), built once
// by @nuxt/test-utils and run as its production server, with Debian's Chromium: SSR shows
// `idle` and opens no socket, the browser connects after hydration without a mismatch and a
// publish is acked through the module's own route, the route takes the options of the app's
// server/realtime.config.ts, `NUXT_PUBLIC_REALTIME_URL` and a non-root `app.baseURL` apply at
// run time.
import { $fetch, startServer, url } from '@nuxt/test-utils/e2e'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRealtimeServer, type RealtimeServer } from '../../src/server'
import { checkServerConfig, clientScripts, openPage as open, publishThrough, setupNuxtFixture, TAB_SHARING_MARKER, type Seen } from './nuxt-helpers'

await setupNuxtFixture()

describe('vue-realtime/nuxt', () => {
  it('server-renders idle everywhere, and its protocol server sees no socket during SSR', async () => {
    await startServer()
    const html = await $fetch<string>('/')
    for (const id of ['channel-status', 'socket-status', 'store-status']) {
      expect(html).toContain(`data-testid="${id}">idle<`)
    }
    expect(html).toContain(`data-testid="url">ws://${new URL(url('/')).host}/_realtime<`)
    expect(await $fetch<Seen>('/api/realtime')).toEqual({ accepted: 0, clients: 0 })
  })

  it('connects after hydration without a mismatch; a publish is acked through the module route; none of the tab-sharing code runs', async () => {
    await startServer()
    const { page, problems, scripts } = await open('/')
    await publishThrough(page)
    expect(problems).toEqual([])
    // shareAcrossTabs is off: the tab-sharing chunk is in the build (the lazy form's target) but
    // this page never loads it as a script.
    expect(await clientScripts()).toContain(TAB_SHARING_MARKER)
    expect(scripts.length).toBeGreaterThan(0)
    expect((await Promise.all(scripts)).join('\n')).not.toContain(TAB_SHARING_MARKER)
    expect(await $fetch<Seen>('/api/realtime')).toMatchObject({ clients: 2 })
    await page.close()
  })

  it("takes its options from the app's server/realtime.config.ts: authenticate, the origin check it brings, authorize, onRequest", async () => {
    await startServer()
    await checkServerConfig()
  })

  it('works under a non-root app.baseURL (set at run time)', async () => {
    await startServer({ env: { NUXT_APP_BASE_URL: '/sub/' } })
    const html = await $fetch<string>('/sub/')
    expect(html).toContain(`data-testid="url">ws://${new URL(url('/')).host}/sub/_realtime<`)
    expect(html).toContain('data-testid="channel-status">idle<')
    const { page, problems } = await open('/sub/')
    await publishThrough(page)
    expect(problems).toEqual([])
    await page.close()
  })

  describe('with NUXT_PUBLIC_REALTIME_URL pointing elsewhere', () => {
    let external: RealtimeServer
    const seen: string[] = []
    beforeAll(async () => {
      external = createRealtimeServer({ port: 0 })
      await external.ready
      external.on('connection', (client) => seen.push(client.id))
    })
    afterAll(() => external?.close({ timeout: 500 }))

    it('connects there instead, set at deploy time without a rebuild', async () => {
      await startServer({ env: { NUXT_PUBLIC_REALTIME_URL: external.url } })
      expect(await $fetch<string>('/')).toContain(`data-testid="url">${external.url}<`)
      expect(seen).toEqual([])
      const { page, problems } = await open('/')
      await publishThrough(page)
      expect(seen.length).toBe(2)
      expect(await $fetch<Seen>('/api/realtime')).toEqual({ accepted: 0, clients: 0 })
      expect(problems).toEqual([])
      await page.close()
    })
  })
})
