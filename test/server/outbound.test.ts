import { createServer, type Server as HttpServer } from 'node:http'
import type { Socket } from 'node:net'
import type { EventEmitter } from 'node:events'
import * as wsModule from 'ws'
import { afterEach, describe, expect, it } from 'vitest'
import { encodeTextFrame } from '../../src/server/outbound'
import type { RealtimeServer } from '../../src/server'
import { connect, startServer, until } from './helpers'

// ws's own framing, to hold ours against it (not in @types/ws).
const { Sender, Receiver } = wsModule as unknown as {
  Sender: { frame(data: Buffer, options: object): Buffer[] }
  Receiver: new (options: object) => EventEmitter & { write(chunk: Buffer): void }
}

/** Payload lengths on both sides of each length encoding (7 bits, 16 bits, 64 bits). */
const LENGTHS = [0, 1, 125, 126, 127, 65_535, 65_536, 70_000]

describe('encodeTextFrame', () => {
  it.each(LENGTHS)('is byte for byte what ws writes for a %i-byte text payload', (length) => {
    const payload = Buffer.alloc(length, 'a')
    const ours = encodeTextFrame(payload)
    const theirs = Buffer.concat(Sender.frame(payload, { fin: true, opcode: 1, mask: false, readOnly: false, rsv1: false }))
    expect(ours.equals(theirs)).toBe(true)
  })

  it('parses back to the payload in ws\'s receiver', () => {
    const receiver = new Receiver({ isServer: false })
    const got: string[] = []
    receiver.on('message', (data: Buffer, isBinary: boolean) => {
      expect(isBinary).toBe(false)
      got.push(data.toString())
    })
    const payloads = LENGTHS.map((n) => 'é'.repeat(Math.floor(n / 2)))
    for (const text of payloads) receiver.write(encodeTextFrame(Buffer.from(text)))
    expect(got).toEqual(payloads)
  })
})

describe('the outbound path', () => {
  let server: RealtimeServer | null = null
  let http: HttpServer | null = null

  afterEach(async () => {
    await server?.close()
    server = null
    if (http) await new Promise<void>((resolve) => http!.close(() => resolve()))
    http = null
  })

  /** A server on a shared HTTP server, so the test sees each connection's raw socket and counts its writes. */
  async function serverWithCountedWrites(): Promise<{ url: string; writes: number[] }> {
    http = createServer()
    const writes: number[] = []
    http.on('connection', (socket: Socket) => {
      const index = writes.push(0) - 1
      // The Writable implementation hooks: one call per write that reaches the kernel.
      const stream = socket as Socket & { _write: (...args: unknown[]) => void; _writev?: (...args: unknown[]) => void }
      const write = stream._write.bind(stream)
      stream._write = (...args: unknown[]) => {
        writes[index]++
        write(...args)
      }
      const writev = stream._writev?.bind(stream)
      if (writev) {
        stream._writev = (...args: unknown[]) => {
          writes[index]++
          writev(...args)
        }
      }
    })
    await new Promise<void>((resolve) => http!.listen(0, '127.0.0.1', resolve))
    server = await startServer({ server: http, presence: false })
    const address = http.address()
    return { url: `ws://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`, writes }
  }

  it('sends the deliveries of one tick to a subscriber in one write, all of them, in order', async () => {
    const { url, writes } = await serverWithCountedWrites()
    const [a, b] = [await connect(url), await connect(url)]
    await a.subscribe('burst')
    await b.subscribe('burst')
    const before = [...writes]
    const published = Array.from({ length: 50 }, (_, i) => server!.publish('burst', { i }, { id: `m${i}` }))
    await Promise.all(published)
    await until(() => a.of('message').length === 50 && b.of('message').length === 50, 'both subscribers have the 50 messages')
    for (const c of [a, b]) {
      expect(c.of('message').map((m) => m.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1))
      expect(c.of('message').map((m) => (m.data as { i: number }).i)).toEqual(Array.from({ length: 50 }, (_, i) => i))
    }
    // One write per subscriber socket for the 50 frames (it was one per frame).
    expect(writes.map((n, i) => n - before[i])).toEqual([1, 1])
  })

  it('keeps broadcast frames and the connection\'s own replies in order on one socket', async () => {
    const { url } = await serverWithCountedWrites()
    const c = await connect(url)
    await c.subscribe('mixed')
    // Each publish is acked (a reply through ws) and delivered back (a broadcast frame), interleaved in one tick.
    for (let i = 0; i < 20; i++) c.send({ type: 'publish', topic: 'mixed', id: `p${i}`, data: 'x'.repeat(i * 700) })
    await c.waitType('ack', (f) => f.id === 'p19')
    await until(() => c.of('message').length === 20, 'the 20 messages')
    expect(c.of('message').map((m) => m.id)).toEqual(Array.from({ length: 20 }, (_, i) => `p${i}`))
    expect(c.of('ack').map((m) => m.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1))
    // Payloads past 125 and 65,535 bytes go through the other length encodings.
    const big = 'y'.repeat(70_000)
    await server!.publish('mixed', big, { id: 'big' })
    expect((await c.waitType('message', (f) => f.id === 'big')).data).toBe(big)
  })
})
