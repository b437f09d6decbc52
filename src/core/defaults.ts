/**
 * `defaults` with every option the user set (`undefined` means "not set", so it never
 * overrides a default). One level deep: nested option objects are resolved by their owners.
 */
export function withDefaults<T extends object>(defaults: T, given: object | undefined): T {
  const resolved = { ...defaults } as Record<string, unknown>
  for (const [key, value] of Object.entries(given ?? {})) if (value !== undefined) resolved[key] = value
  return resolved as T
}
