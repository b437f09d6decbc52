/**
 * Development-only diagnostics. Bundlers replace `process.env.NODE_ENV` (Vite, webpack, Rollup
 * with the usual plugins), so every `if (DEV)` branch is dropped from a production build; where
 * there is no `process` at all (an unbundled browser build) nothing is printed either.
 *
 * A bundler folds this constant only inside this file (esbuild does not inline it into importers,
 * nor fold a typeof-guarded constant in a module with imports), so other files that carry
 * dev-only text write the check inline: `typeof process !== 'undefined' && process.env.NODE_ENV
 * !== 'production'`.
 */
export const DEV: boolean = typeof process === 'undefined' ? false : process.env.NODE_ENV !== 'production'

const PREFIX = '[vue-realtime]'

/** A dev-mode warning with the library's prefix; prints nothing in production. */
export function warn(message: string, ...details: unknown[]): void {
  if (DEV) console.warn(`${PREFIX} ${message}`, ...details)
}

/** A dev-mode error report with the library's prefix; prints nothing in production. */
export function reportError(message: string, ...details: unknown[]): void {
  if (DEV) console.error(`${PREFIX} ${message}`, ...details)
}
