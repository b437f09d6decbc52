// The protocol server's options (found by the module; `defineRealtimeServerConfig` is auto-imported).
interface User {
  name: string
}

export default defineRealtimeServerConfig<User>({
  authenticate: (_request, token) => (token === 'refused' ? null : { name: token ?? 'guest' }),
  authorize: (_user, topic) => !topic.startsWith('private:'),
  onRequest: { whoami: (_data, client) => client.user },
})
