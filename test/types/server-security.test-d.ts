import type { IncomingMessage } from 'node:http'
import { describe, expectTypeOf, it } from 'vitest'
import { createRealtimeServer, type AuthenticateContext, type RealtimeServerOptions } from 'vue-realtime/server'

describe('server security options', () => {
  it("origins: '*', a list, or a predicate that may read the request", () => {
    expectTypeOf<'*'>().toMatchTypeOf<RealtimeServerOptions['origins']>()
    expectTypeOf<string[]>().toMatchTypeOf<RealtimeServerOptions['origins']>()
    expectTypeOf<(origin: string) => boolean>().toMatchTypeOf<RealtimeServerOptions['origins']>()
    expectTypeOf<(origin: string, req: IncomingMessage) => boolean>().toMatchTypeOf<RealtimeServerOptions['origins']>()
    // @ts-expect-error: any other string is not an option
    createRealtimeServer({ noServer: true, origins: 'all' })
  })

  it('authenticate gets an abort signal; the limits are numbers', () => {
    createRealtimeServer<{ id: string }>({
      noServer: true,
      handshakeTimeout: 10_000,
      authenticateTimeout: 5_000,
      maxPendingUpgrades: 1_000,
      authenticate: async (_req, token, { signal }) => {
        expectTypeOf(signal).toEqualTypeOf<AbortSignal>()
        expectTypeOf(token).toEqualTypeOf<string | undefined>()
        return token ? { id: token } : null
      },
    })
    // Older two-argument hooks still fit.
    createRealtimeServer({ noServer: true, authenticate: (req: IncomingMessage, token: string | undefined) => (req && token ? {} : null) })
    expectTypeOf<AuthenticateContext['signal']>().toEqualTypeOf<AbortSignal>()
  })
})
