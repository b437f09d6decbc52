/**
 * Development-only diagnostics.
 *
 * Dev-only code is guarded by an inline `process.env.NODE_ENV !== 'production'`, the guard Vue's
 * and Pinia's bundler builds use: every bundler (Vite in dev and build, webpack, Rollup and
 * esbuild with the usual define) replaces `process.env.NODE_ENV` with a string literal, so the
 * guard works in a browser where `process` does not exist, and the branch is removed from
 * production builds. Write the check inline at each use: a constant exported from here is not
 * folded into its importers by every bundler. Never add a `typeof process` test: under a
 * browser dev server it is false and silences every warning.
 */

const PREFIX = '[vue-realtime]'

/** A dev-mode warning with the library's prefix; prints nothing in production. */
export function warn(message: string, ...details: unknown[]): void {
  if (process.env.NODE_ENV !== 'production') console.warn(`${PREFIX} ${message}`, ...details)
}

/** A dev-mode error report with the library's prefix; prints nothing in production. */
export function reportError(message: string, ...details: unknown[]): void {
  if (process.env.NODE_ENV !== 'production') console.error(`${PREFIX} ${message}`, ...details)
}
