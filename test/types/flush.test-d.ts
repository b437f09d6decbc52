import { describe, expectTypeOf, it } from 'vitest'
import { type FlushMode, type UseChannelOptions, type UseWebSocketOptions } from 'vue-realtime'

describe('flush', () => {
  it("is 'frame' | 'microtask' | 'sync' on useWebSocket and useChannel", () => {
    expectTypeOf<FlushMode>().toEqualTypeOf<'frame' | 'microtask' | 'sync'>()
    expectTypeOf<UseWebSocketOptions['flush']>().toEqualTypeOf<FlushMode | undefined>()
    expectTypeOf<UseChannelOptions<string>['flush']>().toEqualTypeOf<FlushMode | undefined>()
    // @ts-expect-error: not a flush mode
    const wrong: UseWebSocketOptions = { flush: 'post' }
    void wrong
  })
})
