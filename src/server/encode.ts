import type { MessageFrame } from '../core/protocol'
import type { EngineMessage, EphemeralMessage } from './engine'

const OPEN_BRACKET = 0x5b
const CLOSE_BRACKET = 0x5d
const OPEN_BRACE = 0x7b
const CLOSE_BRACE = 0x7d
const QUOTE = 0x22
const BACKSLASH = 0x5c

/**
 * Deepest nesting of arrays and objects in a JSON text (the frame object itself is level 1).
 * One pass over the characters, no recursion: it is what guards the recursive encoder, which
 * overflows the stack on a few thousand levels (bug 19: a 12 KB frame poisoned a topic).
 */
export function nestingDepth(text: string): number {
  let depth = 0
  let max = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === BACKSLASH) i++
      else if (c === QUOTE) inString = false
    } else if (c === QUOTE) {
      inString = true
    } else if (c === OPEN_BRACKET || c === OPEN_BRACE) {
      if (++depth > max) max = depth
    } else if (c === CLOSE_BRACKET || c === CLOSE_BRACE) {
      depth--
    }
  }
  return max
}

/** JSON text of a payload, or undefined when it cannot be encoded (cycles, BigInt, undefined). */
export function encodeData(value: unknown): string | undefined {
  try {
    return JSON.stringify(value)
  } catch {
    return undefined
  }
}

/** Splices the payload's JSON text into the encoded envelope: the payload is never encoded again. */
function withData(envelope: Omit<MessageFrame, 'data'>, data: string): string {
  const head = JSON.stringify(envelope)
  return `${head.slice(0, -1)},"data":${data}}`
}

/** The `message` frame of a stored message, as text. */
export function messageFrameText(message: EngineMessage): string {
  const envelope: Omit<MessageFrame, 'data'> = { type: 'message', topic: message.topic, seq: message.seq, epoch: message.epoch, id: message.id, from: message.from, ts: message.ts }
  if (message.user !== undefined) envelope.user = message.user
  return withData(envelope, message.data)
}

/** The `message` frame of an ephemeral message, as text. */
export function ephemeralFrameText(message: EphemeralMessage): string {
  const envelope: Omit<MessageFrame, 'data'> = { type: 'message', topic: message.topic, id: message.id, from: message.from, ts: message.ts, ephemeral: true }
  if (message.user !== undefined) envelope.user = message.user
  return withData(envelope, message.data)
}
