/**
 * What a README block needs around it to compile on its own: a prelude (declarations of the
 * names a reference block only shows), an epilogue (exports, so create-vite's noUnusedLocals
 * accepts a block that lists names), and sibling files (the `App.vue` a `main.ts` imports).
 * Keyed by `<section>#<index>` (see blocks.ts). A block that needs nothing is not listed.
 * When a README edit breaks a block, fix the block; change this only when the block is right.
 */
export interface BlockContext {
  prelude?: string
  /** Text after the block, or a function of the block's code that returns it. */
  epilogue?: string | ((code: string) => string)
  files?: Record<string, string>
}

/** `export { a, b }` for the names a block destructures (`const { a, b } = ...`): a signature block lists them all. */
export const exportDestructured = (code: string): string => {
  const names = [...code.matchAll(/const\s*\{([^}]*)\}\s*=/g)].flatMap((m) => m[1]!.split(',').map((name) => name.trim()).filter(Boolean))
  return `export { ${names.join(', ')} }\n`
}

const appOf = (component: string, props = ''): string =>
  `<script setup lang="ts">\nimport ${component} from './${component}.vue'\n</script>\n\n<template><${component}${props} /></template>\n`

export const README_CONTEXT: Record<string, BlockContext> = {
  // The Quick start's main.ts imports the app that shows two tickers (one socket).
  'quick-start#1': { files: { 'App.vue': `<script setup lang="ts">\nimport Ticker from './Ticker.vue'\n</script>\n\n<template><Ticker /><Ticker /></template>\n` } },
  'channels#1': { files: { 'App.vue': appOf('Room', ' room="general"') } },
}
