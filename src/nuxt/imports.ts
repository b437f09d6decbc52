/** The module's auto-imports, as `addImports` takes them. */
import type { RealtimeAutoImports } from './options'

const NAME = 'vue-realtime'

/** An auto-import as `addImports` takes it. */
export interface AutoImport {
  name: string
  as: string
  from: string
  /** Where its type is read from in the generated declarations, when not `from`. */
  typeFrom?: string
}

/**
 * The auto-imports `autoImports` asks for; `hasPinia` decides the store's. `piniaTypes` is the
 * `vue-realtime/pinia` entry's file without its extension: Nuxt writes the types of a package
 * the app does not list in its package.json (one a layer brings) as a relative path into its
 * node_modules, which TypeScript resolves without the package's `exports`, so a subpath such as
 * `vue-realtime/pinia` is not found there and `useRealtimeStore` was typed `any`.
 */
export function autoImportsFor(option: boolean | RealtimeAutoImports, hasPinia: boolean, piniaTypes?: string): AutoImport[] {
  if (option === false) return []
  const wanted = option === true ? {} : option
  const imports: AutoImport[] = []
  if (wanted.useChannel !== false) imports.push({ name: 'useChannel', as: 'useChannel', from: NAME })
  if (wanted.useRealtimeStore !== false && hasPinia) {
    imports.push({ name: 'useRealtimeStore', as: 'useRealtimeStore', from: `${NAME}/pinia`, ...(piniaTypes ? { typeFrom: piniaTypes } : {}) })
  }
  if (wanted.useRealtimeUrl !== false) imports.push({ name: 'useRealtimeUrl', as: 'useRealtimeUrl', from: NAME })
  const socket = wanted.useRealtimeSocket ?? true
  if (socket !== false) imports.push({ name: 'useWebSocket', as: socket === true ? 'useRealtimeSocket' : socket, from: NAME })
  return imports
}
