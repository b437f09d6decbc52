// vue-realtime's client (the same as ./vue-realtime.mjs) against vue-realtime's own protocol
// server (`createRealtimeServer`) instead of a bare `ws` one, for the restart scenarios (c, f):
// that server's planned close gives each client a retry hint (`CloseOptions.retryRate`), which
// the client follows (`reconnect.serverHint`). Against any other server the two are the same.
export * from './vue-realtime.mjs'

export const name = 'vue-realtime-server'
export const serverKind = 'realtime'
