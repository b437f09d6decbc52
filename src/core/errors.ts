import { redactError, redactSecrets } from './redact'
import type { RealtimeErrorInfo } from './types'

/** The text of what was thrown: an error's `message`, anything else as a string. */
export function errorMessage(error: unknown): string {
  return (error as Error)?.message ?? String(error)
}

/** The report of a user callback (or listener) that threw, named by where it was given. */
export function callbackThrew(where: PropertyKey, error: unknown): string {
  return `vue-realtime: a '${String(where)}' callback threw: ${errorMessage(error)}`
}

/** An error as listeners, logs, the store and devtools get it: messages name the URL, which may carry `?token=`. */
export function errorInfo(kind: RealtimeErrorInfo['kind'], message: string, cause?: unknown): RealtimeErrorInfo {
  return { kind, message: redactSecrets(message), cause: redactError(cause) }
}
