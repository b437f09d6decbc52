/**
 * Cross-site WebSocket hijacking in a real browser: a page on another origin of the same site
 * (another port of 127.0.0.1, so Chromium attaches the victim's SameSite=Lax cookie) opens a
 * WebSocket to the app. Under the default settings it gets 4403; with `origins: '*'` it gets
 * in as the victim, which shows the check is what stops it.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Browser, BrowserContext } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRealtimeServer, type RealtimeServer, type RealtimeServerOptions } from '../../src/server'
import { launchBrowser } from './helpers'

interface User {
  name: string
}

interface Site {
  url: string
  http: Server
  /** Cookie and Origin headers of every upgrade this site received. */
  upgrades: Array<{ origin?: string; cookie?: string }>
  realtime?: RealtimeServer<User>
}

const PAGE = '<!doctype html><title>page</title><p>page</p>'

/** An HTTP server on 127.0.0.1 that serves a page and, on `/login`, sets the session cookie. */
async function site(): Promise<Site> {
  const http = createServer((req, res) => {
    const headers: Record<string, string> = { 'content-type': 'text/html' }
    if (req.url === '/login') headers['set-cookie'] = 'session=ada-session; Path=/; HttpOnly'
    res.writeHead(200, headers).end(PAGE)
  })
  const upgrades: Site['upgrades'] = []
  http.on('upgrade', (req: IncomingMessage) => upgrades.push({ origin: req.headers.origin, cookie: req.headers.cookie }))
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`, http, upgrades }
}

/** An app: a site with the realtime server attached on `/ws`, authenticating by the session cookie. */
async function app(options: Partial<RealtimeServerOptions<User>> = {}): Promise<Site & { authenticated: string[] }> {
  const s = await site()
  const authenticated: string[] = []
  s.realtime = createRealtimeServer<User>({
    server: s.http,
    path: '/ws',
    authenticate: (req) => {
      authenticated.push(String(req.headers.origin))
      return /(?:^|;\s*)session=ada-session(?:;|$)/.test(req.headers.cookie ?? '') ? { name: 'ada' } : null
    },
    ...options,
  })
  await s.realtime.ready
  return { ...s, authenticated }
}

interface Outcome {
  code: number
  reason: string
  welcome: { type?: string; user?: User } | null
}

/** Opens a WebSocket from the page at `from` to `target` and reports the first frame and the close. */
async function connectFrom(context: BrowserContext, from: string, target: string): Promise<Outcome> {
  const page = await context.newPage()
  try {
    await page.goto(from)
    return await page.evaluate(
      (url) =>
        new Promise<Outcome>((resolve) => {
          const ws = new WebSocket(url, ['vue-realtime.v1'])
          let welcome: Outcome['welcome'] = null
          ws.onmessage = (event) => {
            welcome ??= JSON.parse(String(event.data))
            ws.close(1000)
          }
          ws.onclose = (event) => resolve({ code: event.code, reason: event.reason, welcome })
        }),
      target,
    )
  } finally {
    await page.close()
  }
}

let browser: Browser
const sites: Site[] = []

beforeAll(async () => {
  browser = await launchBrowser()
})

afterAll(async () => {
  await browser?.close()
  for (const s of sites.splice(0)) {
    await s.realtime?.close({ timeout: 500 })
    await new Promise<void>((resolve) => s.http.close(() => resolve()))
  }
})

describe('cross-site WebSocket hijacking in Chromium', () => {
  it('a page on another origin gets 4403 although the browser sends the cookie; the app itself gets in', async () => {
    const victim = await app()
    const attacker = await site()
    sites.push(victim, attacker)
    const context = await browser.newContext()
    try {
      const login = await context.newPage()
      await login.goto(`${victim.url}/login`)
      await login.close()
      const hijack = await connectFrom(context, attacker.url, `ws://${victim.url.slice('http://'.length)}/ws`)
      expect(hijack).toMatchObject({ code: 4403, reason: expect.stringMatching(/^origin not allowed/), welcome: null })
      // The attack was real: the browser attached the victim's cookie to the foreign page's upgrade.
      expect(victim.upgrades[0]).toEqual({ origin: attacker.url, cookie: 'session=ada-session' })
      expect(victim.authenticated).toEqual([])

      const own = await connectFrom(context, victim.url, `ws://${victim.url.slice('http://'.length)}/ws`)
      expect(own.welcome).toMatchObject({ type: 'welcome', user: { name: 'ada' } })
      expect(victim.authenticated).toEqual([victim.url])
    } finally {
      await context.close()
    }
  })

  it("with origins: '*' the same foreign page is let in as the victim", async () => {
    const victim = await app({ origins: '*' })
    const attacker = await site()
    sites.push(victim, attacker)
    const context = await browser.newContext()
    try {
      const login = await context.newPage()
      await login.goto(`${victim.url}/login`)
      await login.close()
      const hijack = await connectFrom(context, attacker.url, `ws://${victim.url.slice('http://'.length)}/ws`)
      expect(hijack.welcome).toMatchObject({ type: 'welcome', user: { name: 'ada' } })
    } finally {
      await context.close()
    }
  })
})
