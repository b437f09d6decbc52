import type { Plugin } from 'vite'

/** Inlines `.lua` files as text (the Redis engine's scripts) and emits them beside the build. */
export function luaText(): Plugin
