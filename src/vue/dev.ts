/**
 * Development-only diagnostics. Bundlers replace `process.env.NODE_ENV` (Vite, webpack, Rollup
 * with the usual plugins), so every `if (DEV)` branch is dropped from a production build; an
 * unbundled browser build, which has no `process`, counts as development.
 */
export const DEV: boolean = /* @__PURE__ */ (() => {
  try {
    return process.env.NODE_ENV !== 'production'
  } catch {
    return true
  }
})()

const PREFIX = '[vue-realtime]'

/** A dev-mode warning with the library's prefix; prints nothing in production. */
export function warn(message: string, ...details: unknown[]): void {
  if (DEV) console.warn(`${PREFIX} ${message}`, ...details)
}

/** A dev-mode error report with the library's prefix; prints nothing in production. */
export function reportError(message: string, ...details: unknown[]): void {
  if (DEV) console.error(`${PREFIX} ${message}`, ...details)
}
