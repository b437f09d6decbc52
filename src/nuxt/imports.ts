/** The module's auto-imports, as `addImports` takes them. */
import type { RealtimeAutoImports } from './options'

const NAME = 'vue-realtime'

/** The auto-imports `autoImports` asks for; `hasPinia` decides the store's. */
export function autoImportsFor(option: boolean | RealtimeAutoImports, hasPinia: boolean): { name: string; as: string; from: string }[] {
  if (option === false) return []
  const wanted = option === true ? {} : option
  const imports: { name: string; as: string; from: string }[] = []
  if (wanted.useChannel !== false) imports.push({ name: 'useChannel', as: 'useChannel', from: NAME })
  if (wanted.useRealtimeStore !== false && hasPinia) imports.push({ name: 'useRealtimeStore', as: 'useRealtimeStore', from: `${NAME}/pinia` })
  if (wanted.useRealtimeUrl !== false) imports.push({ name: 'useRealtimeUrl', as: 'useRealtimeUrl', from: NAME })
  const socket = wanted.useRealtimeSocket ?? true
  if (socket !== false) imports.push({ name: 'useWebSocket', as: socket === true ? 'useRealtimeSocket' : socket, from: NAME })
  return imports
}
