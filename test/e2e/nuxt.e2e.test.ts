// The Nuxt module on a fixture app (test/nuxt/fixture), built once by @nuxt/test-utils and run
// as its production server, with Debian's Chromium: SSR shows `idle` and opens no socket, the
// browser connects after hydration without a mismatch, `NUXT_PUBLIC_REALTIME_URL` and a
// non-root `app.baseURL` apply at run time.
import { fileURLToPath } from 'node:url'
import { $fetch, createPage, setup, startServer, url } from '@nuxt/test-utils/e2e'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRealtimeServer, type RealtimeServer } from '../../src/server'
import { CHROMIUM, CHROMIUM_ARGS, UI_TIMEOUT } from './helpers'

await setup({
  rootDir: fileURLToPath(new URL('../nuxt/fixture', import.meta.url)),
  browser: true,
  browserOptions: { type: 'chromium', launch: { executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30_000 } },
  setupTimeout: 300_000,
  env: { NUXT_TELEMETRY_DISABLED: '1' },
})

let realtime: RealtimeServer
/** Every client that connected to the protocol server, in order. */
const connected: string[] = []

beforeAll(async () => {
  realtime = createRealtimeServer({ port: 0 })
  await realtime.ready
  realtime.on('connection', (client) => connected.push(client.id))
})

afterAll(async () => {
  await realtime?.close({ timeout: 500 })
})

/** Opens `path` after hydration, recording console problems. */
async function open(path: string): Promise<{ page: Page; problems: string[] }> {
  const problems: string[] = []
  const page = await createPage()
  page.setDefaultTimeout(UI_TIMEOUT)
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`))
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning' || /hydrat|mismatch/i.test(message.text())) {
      problems.push(`${message.type()}: ${message.text()}`)
    }
  })
  await page.goto(url(path), { waitUntil: 'hydration' })
  return { page, problems }
}

const text = (page: Page, id: string) => page.getByTestId(id).textContent()

describe('vue-realtime/nuxt', () => {
  it('server-renders idle everywhere and opens no socket during SSR', async () => {
    await startServer({ env: { NUXT_PUBLIC_REALTIME_URL: realtime.url } })
    const html = await $fetch<string>('/')
    for (const id of ['channel-status', 'socket-status', 'store-status']) {
      expect(html).toContain(`data-testid="${id}">idle<`)
    }
    expect(html).toContain(`data-testid="url">${realtime.url}<`)
    expect(connected).toEqual([])
    expect(realtime.clients.size).toBe(0)
  })

  it('connects after hydration without a mismatch, and a publish is acked', async () => {
    await startServer({ env: { NUXT_PUBLIC_REALTIME_URL: realtime.url } })
    const { page, problems } = await open('/')
    await expect.poll(() => text(page, 'channel-status'), { timeout: UI_TIMEOUT }).toBe('open')
    await expect.poll(() => text(page, 'socket-status'), { timeout: UI_TIMEOUT }).toBe('open')
    await expect.poll(() => text(page, 'store-open'), { timeout: UI_TIMEOUT }).toBe('2')
    await page.getByTestId('publish').click()
    await expect.poll(() => text(page, 'acked'), { timeout: UI_TIMEOUT }).toMatch(/^seq \d+$/)
    await expect.poll(() => page.getByTestId('messages').locator('li').count(), { timeout: UI_TIMEOUT }).toBeGreaterThan(0)
    expect(problems).toEqual([])
    await page.close()
  })

  it('computes its default URL under a non-root app.baseURL', async () => {
    await startServer({ env: { NUXT_APP_BASE_URL: '/sub/' } })
    const html = await $fetch<string>('/sub/')
    const origin = new URL(url('/')).host
    expect(html).toContain(`data-testid="url">ws://${origin}/sub/_realtime<`)
    expect(html).toContain('data-testid="channel-status">idle<')
  })
})
