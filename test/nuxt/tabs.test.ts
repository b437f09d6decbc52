// `realtime.shareAcrossTabs` of the Nuxt module: what nuxt.config may say (checked at build time,
// src/nuxt/tabs.ts) and the options the browser's plugin gives `tabSharing()` from the runtime
// config (src/nuxt/runtime/tabSharing.ts). test/e2e/nuxt-tabs.e2e.test.ts sees the name in
// Chromium's lock and channel names.
import { describe, expect, it } from 'vitest'
import { moduleTabSharing } from '../../src/nuxt/tabs'
import { tabSharingOptions } from '../../src/nuxt/runtime/tabSharing'

describe('realtime.shareAcrossTabs in nuxt.config', () => {
  it('is off when false or not set, shares in the default group when true or {}', () => {
    expect(moduleTabSharing(undefined)).toEqual({ enabled: false, name: '' })
    expect(moduleTabSharing(false)).toEqual({ enabled: false, name: '' })
    expect(moduleTabSharing(true)).toEqual({ enabled: true, name: '' })
    expect(moduleTabSharing({})).toEqual({ enabled: true, name: '' })
    expect(moduleTabSharing({ name: undefined })).toEqual({ enabled: true, name: '' })
  })

  it('carries { name } to the runtime config as given', () => {
    expect(moduleTabSharing({ name: 'shop' })).toEqual({ enabled: true, name: 'shop' })
    expect(moduleTabSharing({ name: 'shop v2' })).toEqual({ enabled: true, name: 'shop v2' })
  })

  it('refuses via and worker, naming the SharedWorker as the cause and tabSharing() per connection as the fix', () => {
    for (const option of [{ via: 'worker' }, { via: 'locks', name: 'shop' }, { worker: () => ({}) }]) {
      expect(() => moduleTabSharing(option)).toThrow(/realtime\.shareAcrossTabs cannot take "(via|worker)".*SharedWorker.*cannot be serialised into the runtime config.*tabSharing\(\{ via: 'worker', worker \}\)/)
    }
    expect(() => moduleTabSharing({ via: 'worker', worker: () => ({}) })).toThrow(/cannot take "via" or "worker"/)
  })

  it('refuses unknown keys by name', () => {
    expect(() => moduleTabSharing({ nmae: 'shop' })).toThrow(/realtime\.shareAcrossTabs has unknown option "nmae": the module takes only \{ name \}\. Remove it or check the spelling\./)
    expect(() => moduleTabSharing({ name: 'shop', a: 1, b: 2 })).toThrow(/unknown options "a", "b".*Remove them/)
  })

  it('refuses a name that is not a non-empty string, saying how to write it', () => {
    expect(() => moduleTabSharing({ name: 42 })).toThrow(/realtime\.shareAcrossTabs\.name must be a string, got 42\. Write it in quotes \(name: '42'\), or leave name out/)
    expect(() => moduleTabSharing({ name: null })).toThrow(/name must be a string, got null\. Give a string such as 'my-app'/)
    expect(() => moduleTabSharing({ name: { id: 1 } })).toThrow(/name must be a string, got an object/)
    expect(() => moduleTabSharing({ name: '' })).toThrow(/realtime\.shareAcrossTabs\.name is empty\. Give a name such as 'my-app', or leave name out for the default group\./)
    expect(() => moduleTabSharing({ name: '  ' })).toThrow(/name is empty/)
  })

  it('refuses what is neither a boolean nor an object', () => {
    expect(() => moduleTabSharing('yes')).toThrow(/realtime\.shareAcrossTabs must be true, false or \{ name \}, got "yes"\. Write `shareAcrossTabs: true`/)
    expect(() => moduleTabSharing(1)).toThrow(/must be true, false or \{ name \}, got 1\./)
    expect(() => moduleTabSharing(null)).toThrow(/got null/)
    expect(() => moduleTabSharing(['shop'])).toThrow(/got an array/)
  })
})

describe('tabSharingOptions (the runtime config in the browser)', () => {
  it('gives tabSharing() its defaults without a name', () => {
    expect(tabSharingOptions({ shareAcrossTabsName: '' })).toEqual({})
    expect(tabSharingOptions({ shareAcrossTabsName: '   ' })).toEqual({})
    expect(tabSharingOptions({})).toEqual({})
    // Nuxt never lets a `null` variable override a key; a config written by hand might.
    expect(tabSharingOptions({ shareAcrossTabsName: null })).toEqual({})
  })

  it('gives the name the build or the deploy-time variable set', () => {
    expect(tabSharingOptions({ shareAcrossTabsName: 'shop' })).toEqual({ name: 'shop' })
  })

  it('turns a variable Nuxt parsed into a number or a boolean back into the string it held', () => {
    // NUXT_PUBLIC_REALTIME_SHARE_ACROSS_TABS_NAME=2026 reaches the browser as the number 2026.
    expect(tabSharingOptions({ shareAcrossTabsName: 2026 })).toEqual({ name: '2026' })
    expect(tabSharingOptions({ shareAcrossTabsName: 0 })).toEqual({ name: '0' })
    expect(tabSharingOptions({ shareAcrossTabsName: false })).toEqual({ name: 'false' })
  })
})
