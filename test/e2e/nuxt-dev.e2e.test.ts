// The Nuxt module under `nuxi dev`, as an app's developer runs it: Vite serves the client (the
// package's built files as the tarball ships them, in development mode), Nitro's dev server runs
// the module's route with the app's server/realtime.config.ts. The same checks as the
// production build (nuxt.e2e.test.ts): SSR shows `idle` and opens no socket, the browser
// connects after hydration without a mismatch or an error, a publish is acked through the
// route, and the route takes the options file's options.
import { $fetch, url } from '@nuxt/test-utils/e2e'
import { describe, expect, it } from 'vitest'
import { checkServerConfig, openPage, publishThrough, setupNuxtFixture, type Seen } from './nuxt-helpers'

await setupNuxtFixture({ dev: true })

describe('vue-realtime/nuxt under nuxi dev', () => {
  it('server-renders idle, and its protocol server sees no socket during SSR', async () => {
    const html = await $fetch<string>('/')
    // Served by Vite's dev server, not a build.
    expect(html).toContain('/@vite/client')
    for (const id of ['channel-status', 'socket-status', 'store-status']) {
      expect(html).toContain(`data-testid="${id}">idle<`)
    }
    expect(html).toContain(`data-testid="url">ws://${new URL(url('/')).host}/_realtime<`)
    expect(await $fetch<Seen>('/api/realtime')).toEqual({ accepted: 0, clients: 0 })
  })

  it('connects after hydration without a mismatch or an error; a publish is acked through the module route', async () => {
    const { page, problems } = await openPage('/')
    await publishThrough(page)
    expect(problems).toEqual([])
    expect(await $fetch<Seen>('/api/realtime')).toMatchObject({ clients: 2 })
    await page.close()
  })

  it("takes its options from the app's server/realtime.config.ts", async () => {
    await checkServerConfig()
  })
})
