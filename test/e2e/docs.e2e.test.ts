// The built documentation site (`npm run docs:build`, which `npm test` runs first), served
// statically on 127.0.0.1 the way a static host serves it (clean URLs), in headless Chromium:
// the live demo reaches `open` against its in-page server, and no internal link is broken.
import { createReadStream, existsSync } from 'node:fs'
import { readdir, readFile, stat } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { extname, join, relative } from 'node:path'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchBrowser, ROOT, UI_TIMEOUT } from './helpers'

const DIST = join(ROOT, 'docs/.vitepress/dist')
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
}

/** The file a static host serves for `pathname` with clean URLs, or undefined (404). */
async function resolveFile(pathname: string): Promise<string | undefined> {
  const path = decodeURIComponent(pathname).replace(/\/+$/, '/')
  for (const candidate of [path, join(path, 'index.html'), `${path.replace(/\/$/, '')}.html`]) {
    const file = join(DIST, candidate)
    if (!file.startsWith(DIST)) return undefined
    try {
      if ((await stat(file)).isFile()) return file
    } catch {
      // try the next form
    }
  }
  return undefined
}

let server: Server
let origin: string
let browser: Browser

beforeAll(async () => {
  if (!existsSync(join(DIST, 'index.html'))) throw new Error('docs/.vitepress/dist is missing: run `npm run docs:build` first (npm test does).')
  server = createServer(async (req, res) => {
    const file = await resolveFile(new URL(req.url ?? '/', 'http://x').pathname)
    res.writeHead(file ? 200 : 404, { 'content-type': TYPES[extname(file ?? '.html')] ?? 'application/octet-stream' })
    createReadStream(file ?? join(DIST, '404.html')).pipe(res)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  browser = await launchBrowser()
})

afterAll(async () => {
  await browser?.close()
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()))
})

describe('documentation site', () => {
  it('the live demo connects to its in-page server, chats, and survives a restart, with no console error', async () => {
    const page = await browser.newPage()
    page.setDefaultTimeout(UI_TIMEOUT)
    const problems: string[] = []
    page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`))
    page.on('console', (message) => {
      // A failed load is reported below with its URL.
      if (message.text().startsWith('Failed to load resource')) return
      if (message.type() === 'error' || /hydration/i.test(message.text())) problems.push(`${message.type()}: ${message.text()}`)
    })
    page.on('response', (response) => {
      if (response.status() >= 400) problems.push(`${response.status()} ${response.url()}`)
    })
    page.on('request', (request) => {
      if (!request.url().startsWith(origin)) problems.push(`request off the page's origin: ${request.url()}`)
    })
    await page.goto(`${origin}/`)
    const statuses = page.getByTestId('channel-demo').getByTestId('demo-status')
    await expect.poll(() => statuses.allTextContents(), { timeout: UI_TIMEOUT }).toEqual(['open', 'open'])

    await page.getByTestId('demo-input').first().fill('hello from Ada')
    await page.getByTestId('demo-input').first().press('Enter')
    const lists = page.getByTestId('demo-messages')
    await expect.poll(() => lists.nth(1).textContent(), { timeout: UI_TIMEOUT }).toContain('hello from Ada')

    await page.getByTestId('demo-restart').click()
    await expect.poll(() => statuses.allTextContents(), { timeout: UI_TIMEOUT }).not.toEqual(['open', 'open'])
    await expect.poll(() => statuses.allTextContents(), { timeout: UI_TIMEOUT }).toEqual(['open', 'open'])
    for (const index of [0, 1]) {
      const text = (await lists.nth(index).textContent()) ?? ''
      expect(text.split('hello from Ada').length - 1, `client ${index} shows the message once`).toBe(1)
    }
    expect(problems).toEqual([])
    await page.close()
  })

  it('every internal link of every page resolves', async () => {
    const pages: string[] = []
    const walk = async (dir: string): Promise<void> => {
      for (const entry of await readdir(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name)
        if (entry.isDirectory()) await walk(path)
        else if (entry.name.endsWith('.html') && entry.name !== '404.html') pages.push(path)
      }
    }
    await walk(DIST)
    expect(pages.length).toBeGreaterThan(5)
    const broken: string[] = []
    for (const file of pages) {
      const html = await readFile(file, 'utf8')
      const pageUrl = new URL(`/${relative(DIST, file).replace(/(index)?\.html$/, '')}`, origin)
      for (const [, href] of html.matchAll(/<a [^>]*href="([^"#]+)[^"]*"/g)) {
        const target = new URL(href!.replaceAll('&amp;', '&'), pageUrl)
        if (target.origin !== origin) continue
        if (!(await resolveFile(target.pathname))) broken.push(`${relative(DIST, file)} → ${href}`)
      }
    }
    expect(broken).toEqual([])
  })
})
