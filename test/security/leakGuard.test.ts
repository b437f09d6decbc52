import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { expect, it } from 'vitest'
import { SECRET } from '../support/marker'

const root = fileURLToPath(new URL('../..', import.meta.url))

/** Runs vitest on the leaking fixture in a child process; resolves with its exit code and output. */
function runFixture(): Promise<{ code: number | null; output: string }> {
  // The child is a fresh vitest, not a worker of this one.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('VITEST') && name !== 'NODE_OPTIONS'))
  const child = spawn(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', '--config', 'test/security/fixtures/vitest.leak.config.ts'], {
    cwd: root,
    env: { ...env, NO_COLOR: '1', CI: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')))
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')))
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill()
      reject(new Error('the child vitest run did not finish within 60 s'))
    }, 60_000)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, output })
    })
  })
}

it('the leak guard fails a run whose passing tests print the marker token', async () => {
  const { code, output } = await runFixture()
  // Never print the child's output as is: it holds the marker, which would trip this run's guard.
  const masked = output.split(SECRET).join('<SECRET>')
  expect(masked, 'the fixture test itself passed').toMatch(/1 passed/)
  expect(masked).toMatch(/\[leak guard\] FAILED: the marker token appeared 1 time\(s\)/)
  expect(masked).toContain('refused ws://h/?token=<SECRET>')
  expect(code, masked.slice(-2000)).toBe(1)
}, 70_000)
