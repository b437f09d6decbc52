import { getCurrentScope, onScopeDispose, shallowRef, type Ref } from 'vue'

/** The browser's `navigator.onLine`, kept current from its online/offline events. */
export function useOnline(): Readonly<Ref<boolean>> {
  const online = shallowRef(navigator.onLine)
  const update = () => (online.value = navigator.onLine)
  window.addEventListener('online', update)
  window.addEventListener('offline', update)
  if (getCurrentScope()) {
    onScopeDispose(() => {
      window.removeEventListener('online', update)
      window.removeEventListener('offline', update)
    })
  }
  return online
}
