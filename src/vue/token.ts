import { toValue, type MaybeRefOrGetter } from 'vue'
import type { ConnectionOptions } from '../core/types'

/** A token as the Vue layer takes it: a string, a getter, or a ref (read again before every connection attempt). */
export type TokenSource = MaybeRefOrGetter<string | null | undefined>

/** One getter per token ref, so consumers sharing a ref pass the same option (no conflict warning). */
const getters = new WeakMap<object, () => string | null | undefined>()

/** The core's `token` connection option for a string, a getter or a ref. */
export function tokenOption(token: TokenSource): ConnectionOptions['token'] {
  if (token == null || typeof token === 'string' || typeof token === 'function') return token ?? undefined
  let getter = getters.get(token)
  if (!getter) getters.set(token, (getter = () => toValue(token)))
  return getter
}
