/**
 * Helpers of the secret-leak tests. Tests use the marker `SECRET` as a `?token=` value, a
 * token subprotocol and inside `authenticate` errors; it must never show up in anything
 * printed, reported or shown. `test/support/leakGuard.ts` fails the whole run if any test's
 * output contains it.
 */
import { inspect } from 'node:util'
import { expect } from 'vitest'
import { SECRET } from './marker'

export { SECRET }

/** Deep, printable form of anything (what a log line or devtools would show of it). */
export function printable(value: unknown): string {
  return typeof value === 'string' ? value : inspect(value, { depth: 8, breakLength: Infinity, getters: false })
}

/** Asserts that the marker appears in none of `values`, naming which one leaked. */
export function expectNoSecret(values: Record<string, unknown>): void {
  for (const [what, value] of Object.entries(values)) {
    const text = printable(value)
    // A failing `toContain` would print the text (and so the marker) into the run's output.
    if (text.includes(SECRET)) expect.fail(`the marker token appears in ${what}: ${text.split(SECRET).join('<SECRET>').slice(0, 600)}`)
  }
}

type Write = typeof process.stdout.write

/**
 * Records what this process prints while active: every console method and direct writes to
 * stdout/stderr. `restore()` puts the originals back and returns the text.
 */
export function captureOutput(): { readonly text: () => string; restore: () => string } {
  const chunks: string[] = []
  const methods = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const
  const originals = methods.map((m) => console[m])
  for (const m of methods) {
    console[m] = (...args: unknown[]) => {
      chunks.push(args.map(printable).join(' '))
    }
  }
  const writes = [process.stdout.write, process.stderr.write]
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream)
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'))
      return (write as (...a: unknown[]) => boolean)(chunk, ...rest)
    }) as Write
  }
  return {
    text: () => chunks.join('\n'),
    restore() {
      methods.forEach((m, i) => (console[m] = originals[i]!))
      process.stdout.write = writes[0]!
      process.stderr.write = writes[1]!
      return chunks.join('\n')
    },
  }
}
