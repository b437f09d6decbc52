// The built Nuxt module on a fixture app (test/nuxt/fixture, `realtime: { server: true }`), built once
// by @nuxt/test-utils and run as its production server, with Debian's Chromium: SSR shows
// `idle` and opens no socket, the browser connects after hydration without a mismatch and a
// publish is acked through the module's own route, the route takes the options of the app's
// server/realtime.config.ts, `NUXT_PUBLIC_REALTIME_URL` and a non-root `app.baseURL` apply at
// run time.
import { $fetch, createPage, startServer, url } from '@nuxt/test-utils/e2e'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PROTOCOL } from '../../src/core/protocol'
import { createRealtimeServer, type RealtimeServer } from '../../src/server'
import { connect, open as openSocket } from '../server/helpers'
import { UI_TIMEOUT } from './helpers'
import { clientScripts, recordScripts, setupNuxtFixture, TAB_SHARING_MARKER, watchConsole } from './nuxt-helpers'

await setupNuxtFixture()

/** What the module's protocol server saw (the fixture's /api/realtime). */
interface Seen {
  accepted: number
  clients: number
}

/** Opens `path` after hydration, recording console problems and the scripts the page downloads. */
async function open(path: string): Promise<{ page: Page; problems: string[]; scripts: Array<Promise<string>> }> {
  const problems: string[] = []
  const scripts: Array<Promise<string>> = []
  const page = await createPage()
  page.setDefaultTimeout(UI_TIMEOUT)
  watchConsole(page, problems)
  recordScripts(page, scripts)
  await page.goto(url(path), { waitUntil: 'hydration' })
  return { page, problems, scripts }
}

const text = (page: Page, id: string) => page.getByTestId(id).textContent()

/** Waits until the page is connected, publishes, and waits for the ack and the message. */
async function publishThrough(page: Page): Promise<void> {
  await expect.poll(() => text(page, 'channel-status'), { timeout: UI_TIMEOUT }).toBe('open')
  await expect.poll(() => text(page, 'socket-status'), { timeout: UI_TIMEOUT }).toBe('open')
  await expect.poll(() => text(page, 'store-open'), { timeout: UI_TIMEOUT }).toBe('2')
  await page.getByTestId('publish').click()
  await expect.poll(() => text(page, 'acked'), { timeout: UI_TIMEOUT }).toMatch(/^seq \d+$/)
  await expect.poll(() => page.getByTestId('messages').locator('li').count(), { timeout: UI_TIMEOUT }).toBeGreaterThan(0)
}

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
    const route = url('/_realtime').replace(/^http/, 'ws')
    const refused = await openSocket(route, [PROTOCOL, 'vue-realtime.token.refused'])
    expect((await refused.closed).code).toBe(4401)
    const elsewhere = await openSocket(route, [PROTOCOL], { origin: 'http://elsewhere.example' })
    expect((await elsewhere.closed).code).toBe(4403)

    const ada = await connect(route, [PROTOCOL, 'vue-realtime.token.ada'], { origin: new URL(url('/')).origin })
    ada.send({ type: 'request', id: 1, method: 'whoami' })
    expect(await ada.waitType('response', (frame) => frame.id === 1)).toMatchObject({ data: { name: 'ada' } })
    ada.send({ type: 'subscribe', topic: 'private:ada' })
    expect(await ada.waitType('error', (frame) => frame.topic === 'private:ada')).toMatchObject({ code: 'forbidden', frame: 'subscribe' })
    await ada.subscribe('room:nuxt')
    await ada.close()
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
