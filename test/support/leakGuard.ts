/**
 * Vitest global setup: fails the run when the marker token (`test/support/marker.ts`) shows up
 * anywhere in what the run prints. Workers' console output, their direct stdout/stderr writes
 * and the reporter's failure messages all pass through this (the main) process's streams, so
 * this covers every test file of the run, not only the ones that use the marker on purpose.
 */
import { SECRET } from './marker'

type Write = typeof process.stdout.write

export default function setup(): () => void {
  const hits: string[] = []
  const streams = [process.stdout, process.stderr]
  const originals = streams.map((stream) => stream.write)
  streams.forEach((stream, i) => {
    // The marker may be split across two writes: keep the end of the previous one.
    let tail = ''
    const write = originals[i]!
    stream.write = function (this: unknown, chunk: unknown, ...rest: unknown[]): boolean {
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8')
      const seen = tail + text
      if (seen.includes(SECRET)) hits.push(seen)
      tail = seen.slice(-(SECRET.length - 1))
      return (write as (...args: unknown[]) => boolean).call(stream, chunk, ...rest)
    } as Write
  })
  return () => {
    streams.forEach((stream, i) => (stream.write = originals[i]!))
    if (hits.length === 0) return
    process.exitCode = 1
    const first = hits[0]!.split(SECRET).join('<SECRET>').slice(-2000)
    process.stderr.write(
      `\n[leak guard] FAILED: the marker token appeared ${hits.length} time(s) in the output of this run: a secret leaks into a log line or an error message.\n` +
        `First occurrence (marker masked):\n${first}\n`,
    )
  }
}
