/** A Lua script file, inlined as text by the build (vite.config.ts `luaText`, esbuild `loader: { '.lua': 'text' }`). */
declare module '*.lua' {
  const source: string
  export default source
}
