/**
 * The demo chat on two nodes and one Redis (`npm run demo:cluster`), in headless Chromium:
 * Alice on node A, Bob on node B. They chat both ways and see each other's presence; node A is
 * SIGKILLed (Bob sees Alice leave once A's registration expires) and restarted on its port:
 * Alice recovers what Bob wrote meanwhile, and her message written offline is delivered once.
 */
import type { Browser } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startChatNode, type ChatNode } from '../../demo/cluster'
import { startRedis, type RedisServer } from '../support/redis'
import {
  buildSite,
  joinChat,
  launchBrowser,
  messageTexts,
  openPage,
  removeDir,
  say,
  screenshot,
  serveSite,
  waitForDelivery,
  waitForMessages,
  waitForStatus,
  type ChatPage,
  type SiteServer,
} from './helpers'

/** Short, so a killed node's members leave quickly; the engine's default is 15 s. */
const NODE_TTL = 2000

let browser: Browser
let redis: RedisServer
let nodeA: ChatNode
let nodeB: ChatNode
let siteA: SiteServer
let siteB: SiteServer
let siteDir: string | undefined
const open: ChatPage[] = []

beforeAll(async () => {
  siteDir = await buildSite()
  redis = await startRedis()
  nodeA = await startChatNode({ redisUrl: redis.url, nodeTtlMs: NODE_TTL })
  nodeB = await startChatNode({ redisUrl: redis.url, nodeTtlMs: NODE_TTL })
  // The site twice, each copy proxying /ws to its node (as demo:cluster serves :5173 and :5174).
  siteA = await serveSite(siteDir, () => nodeA.port)
  siteB = await serveSite(siteDir, () => nodeB.port)
  browser = await launchBrowser()
})

afterAll(async () => {
  await browser?.close()
  await siteA?.close()
  await siteB?.close()
  await nodeA?.close()
  await nodeB?.close()
  await redis?.stop()
  await removeDir(siteDir)
})

afterEach(async () => {
  const errors = open.flatMap((p) => p.errors.map((e) => e.message))
  await Promise.all(open.splice(0).map((p) => p.context.close()))
  expect(errors, 'uncaught errors in the page').toEqual([])
})

async function user(site: SiteServer): Promise<ChatPage> {
  const page = await openPage(browser, site)
  open.push(page)
  return page
}

const presence = (page: ChatPage['page'], name: string, state: string) =>
  page.locator(`[data-testid="presence-item"][data-name="${name}"]`).filter({ hasText: state }).waitFor()

describe('demo chat on two nodes and one Redis', () => {
  it('Alice on A and Bob on B chat both ways and see each other; A is SIGKILLed and restarted: Alice recovers, nothing lost or doubled', async () => {
    const alice = await user(siteA)
    await joinChat(alice.page, 'Alice', 'general')
    const bob = await user(siteB)
    await joinChat(bob.page, 'Bob', 'general')

    await say(alice.page, 'Hi Bob, I am on node A')
    await waitForMessages(bob.page, ['Hi Bob, I am on node A'])
    await say(bob.page, 'Hi Alice, node B here')
    const hello = ['Hi Bob, I am on node A', 'Hi Alice, node B here']
    await waitForMessages(alice.page, hello)
    await waitForMessages(bob.page, hello)
    await presence(alice.page, 'Bob', 'online')
    await presence(bob.page, 'Alice', 'online')

    await nodeA.kill('SIGKILL')
    await alice.page.getByTestId('retry-now').waitFor()
    expect(await alice.page.getByTestId('connection-status').textContent()).not.toContain('Connected')
    // Node A's registration expires: every other node removes its members.
    await presence(bob.page, 'Alice', 'offline')

    const whileDown = ['sent while node A is down', 'still down?']
    for (const text of whileDown) await say(bob.page, text)
    await waitForMessages(bob.page, [...hello, ...whileDown])
    await say(alice.page, 'written while my node was down')
    await alice.page.locator('[data-testid="message"][data-delivery="pending"]').waitFor()
    await screenshot(alice.page, 'cluster-node-down')

    nodeA = await startChatNode({ redisUrl: redis.url, port: nodeA.port, nodeTtlMs: NODE_TTL })
    await alice.page.getByTestId('retry-now').click({ timeout: 2000 }).catch(() => {})
    await waitForStatus(alice.page, 'Connected')
    const all = [...hello, ...whileDown, 'written while my node was down']
    await waitForMessages(alice.page, all)
    await waitForMessages(bob.page, all)
    await waitForDelivery(alice.page, 'Delivered', 2)
    await presence(bob.page, 'Alice', 'online')
    await presence(alice.page, 'Bob', 'online')

    // A reload on node A replays the history from Redis exactly once.
    await alice.page.reload()
    await waitForStatus(alice.page, 'Connected')
    await waitForMessages(alice.page, all)
    expect(await messageTexts(bob.page)).toEqual(all)
  })
})
