/**
 * The installed package at runtime in Node: every entry imports from the tarball (not from src),
 * and the README's server example runs as written (its port and data directory pointed at a
 * free loopback port and a scratch directory): a token lets a client in, no token is refused
 * with 4401, and SIGTERM closes the clients with 1012 and lets the process exit.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import ts from 'typescript'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { once, waitFor } from '../support/wait'
import { run } from './exec'
import { APP, INSTALLED } from './paths'

describe('each entry point imported in Node from the installed tarball', () => {
  it('loads from node_modules/vue-realtime/dist and exports the public names', async () => {
    const { stdout } = await run(process.execPath, ['server/entries.mjs'], { cwd: APP })
    const entries = JSON.parse(stdout) as Record<string, { resolved: string; exports: string[] }>
    const dist = pathToFileURL(join(INSTALLED, 'dist')).href
    expect(entries['vue-realtime']!.resolved).toBe(`${dist}/index.js`)
    expect(entries['vue-realtime/pinia']!.resolved).toBe(`${dist}/pinia/index.js`)
    expect(entries['vue-realtime/core']!.resolved).toBe(`${dist}/core/index.js`)
    expect(entries['vue-realtime/server']!.resolved).toBe(`${dist}/server/index.js`)
    expect(entries['vue-realtime']!.exports).toEqual(
      expect.arrayContaining([
        'createRealtime', 'useRealtime', 'useRealtimeUrl', 'useWebSocket', 'useChannel', 'closeCodeInfo',
        'Connection', 'ConnectionManager', 'OutboxFullError', 'RealtimeProtocolError', 'ProtocolClient',
      ]),
    )
    expect(entries['vue-realtime/pinia']!.exports).toEqual(expect.arrayContaining(['useRealtimeStore']))
    expect(entries['vue-realtime/core']!.exports).toEqual(
      expect.arrayContaining(['Connection', 'ConnectionManager', 'OutboxFullError', 'closeCodeInfo', 'normalizeUrl', 'ProtocolClient']),
    )
    expect(entries['vue-realtime/server']!.exports).toEqual(expect.arrayContaining(['createRealtimeServer', 'createRealtimeHooks', 'RequestError']))
    expect(entries['vue-realtime/server/crossws']!.resolved).toBe(`${dist}/server/crossws-entry.js`)
    expect(entries['vue-realtime/server/crossws']!.exports).toEqual(expect.arrayContaining(['createRealtimeHooks', 'memoryEngine', 'RequestError']))
  })
})

describe("the README's server example", () => {
  let child: ChildProcess | undefined
  const dir = join(APP, 'server/readme/.run')

  afterEach(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL')
      await once(child, 'exit')
    }
    await rm(dir, { recursive: true, force: true })
  })

  it('runs: token in, no token 4401, SIGTERM closes clients with 1012 and exits', async () => {
    const source = await readFile(join(APP, 'server/readme/channels/server.ts'), 'utf8')
    expect(source).toContain('port: 8787')
    // Same program; only where it listens and writes changes (a demo may hold 8787).
    const program = ts.transpileModule(source.replace('port: 8787', 'port: 0').replace("'./data'", JSON.stringify(join(dir, 'data'))), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
    }).outputText
    await mkdir(dir, { recursive: true })
    await writeFile(join(dir, 'server.mjs'), program)

    const proc = spawn(process.execPath, [join(dir, 'server.mjs')], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
    child = proc
    let output = ''
    proc.stdout!.on('data', (chunk) => (output += chunk))
    proc.stderr!.on('data', (chunk) => (output += chunk))
    await waitFor(
      () => {
        if (proc.exitCode !== null) throw new Error(`the server exited (${proc.exitCode}): ${output}`)
        return /realtime server on (ws:\/\/\S+)/.test(output)
      },
      { timeout: 20_000, message: 'the server prints its URL' },
    )
    const url = /realtime server on (ws:\/\/\S+)/.exec(output)![1]!
    expect(url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+/)

    // No token: refused with 4401.
    const anonymous = new WebSocket(url, ['vue-realtime.v1'])
    const [refusedCode] = await once<[number, Buffer]>(anonymous, 'close')
    expect(refusedCode).toBe(4401)

    // A token: welcome with the user authenticate returned; the `rooms` request answers.
    const alice = new WebSocket(url, ['vue-realtime.v1', 'vue-realtime.token.alice'])
    const frames: Record<string, unknown>[] = []
    alice.on('message', (data) => frames.push(JSON.parse(String(data)) as Record<string, unknown>))
    await waitFor(() => frames.some((f) => f.type === 'welcome'), { message: 'welcome frame' })
    expect(frames.find((f) => f.type === 'welcome')).toMatchObject({ user: { name: 'alice' } })
    alice.send(JSON.stringify({ type: 'subscribe', topic: 'room:general' }))
    await waitFor(() => frames.some((f) => f.type === 'subscribed'), { message: 'subscribed' })
    alice.send(JSON.stringify({ type: 'request', id: 1, method: 'rooms' }))
    await waitFor(() => frames.some((f) => f.type === 'response'), { message: 'rooms response' })
    expect(frames.find((f) => f.type === 'response')).toMatchObject({ id: 1, data: ['room:general'] })

    // SIGTERM: clients see 1012 (they reconnect and resume), the process exits by itself.
    const closed = once<[number, Buffer]>(alice, 'close')
    const exited = once(proc, 'exit', 20_000)
    proc.kill('SIGTERM')
    const [code] = (await closed) as [number, Buffer]
    expect(code).toBe(1012)
    await exited
    expect(proc.exitCode, output).toBe(0)
  })
})
