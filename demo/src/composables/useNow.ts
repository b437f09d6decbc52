import { getCurrentScope, onScopeDispose, shallowRef, type Ref } from 'vue'

/** `Date.now()` as a ref, refreshed every `interval` ms while the calling scope lives. */
export function useNow(interval = 1000): Readonly<Ref<number>> {
  const now = shallowRef(Date.now())
  const timer = setInterval(() => (now.value = Date.now()), interval)
  if (getCurrentScope()) onScopeDispose(() => clearInterval(timer))
  return now
}
