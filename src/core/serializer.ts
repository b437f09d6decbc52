import type { Serializer, WebSocketData } from './types'

/** Bundlers fold this per file (`process.env.NODE_ENV` replaced), so dev-only text leaves production builds. */

function isBinary(value: unknown): value is ArrayBufferLike | ArrayBufferView | Blob {
  if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) return true
  if (typeof SharedArrayBuffer !== 'undefined' && value instanceof SharedArrayBuffer) return true
  return typeof Blob !== 'undefined' && value instanceof Blob
}

/**
 * The default serializer: strings and binary pass through; anything else is JSON-encoded.
 * Inbound text is parsed as JSON when it parses, else kept as the string; binary passes through.
 */
export const jsonSerializer: Serializer<unknown, unknown> = {
  encode(value: unknown): WebSocketData {
    if (typeof value === 'string' || isBinary(value)) return value
    let text: string | undefined
    try {
      text = JSON.stringify(value)
    } catch (cause) {
      throw new TypeError(
        `vue-realtime: send() could not JSON-encode the message (${(cause as Error).message})` +
          (process.env.NODE_ENV !== 'production' ? '. Send plain data without cycles, BigInt or functions, or pass a custom `serializer`.' : ''),
        { cause },
      )
    }
    if (text === undefined) {
      throw new TypeError(
        `vue-realtime: send() got ${typeof value}, which JSON cannot encode` +
          (process.env.NODE_ENV !== 'production' ? '. Send a string, binary data or a plain object.' : ''),
      )
    }
    return text
  },
  decode(data: unknown): unknown {
    if (typeof data !== 'string') return data
    // Only try JSON for text that can start a JSON value; plain chat text stays a string cheaply.
    // A char code, not a regex: this runs for every inbound frame.
    const c = data.charCodeAt(0)
    const jsonStart = c === 123 /* { */ || c === 91 /* [ */ || c === 34 /* " */ || c === 45 /* - */ || (c >= 48 && c <= 57) /* 0-9 */
    if (!jsonStart && data !== 'true' && data !== 'false' && data !== 'null') return data
    try {
      return JSON.parse(data)
    } catch {
      return data
    }
  },
}

/** Byte size of an outbound frame (UTF-8 for text), for the outbox's `maxBytes`. */
export function frameSize(data: WebSocketData): number {
  if (typeof data === 'string') {
    // Fast path: ASCII-only strings are one byte per char; otherwise count UTF-8 properly.
    let bytes = data.length
    for (let i = 0; i < data.length; i++) {
      const c = data.charCodeAt(i)
      if (c <= 0x7f || (c >= 0xdc00 && c <= 0xdfff)) continue // ASCII; low surrogate counted with its high half
      bytes += c <= 0x7ff ? 1 : 2 // 2- or 3-byte sequence; a high surrogate starts a 4-byte pair
    }
    return bytes
  }
  if (typeof Blob !== 'undefined' && data instanceof Blob) return data.size
  return (data as ArrayBufferLike | ArrayBufferView).byteLength
}
