/**
 * The demo's chat server: the vue-realtime protocol server with history kept in `dataDir` (SQLite),
 * nickname login, room/DM authorization, and lobby/inbox notices for unread counts.
 * `demo/start.mjs` bundles and runs it; the e2e tests import `startChatServer` directly.
 */
import { createRealtimeServer, RequestError, type RealtimeEngine, type RealtimeServer } from '../src/server/index'
import {
  DEFAULT_ROOMS,
  LOBBY_TOPIC,
  dmMembers,
  inboxTopic,
  normalizeNickname,
  normalizeRoom,
  roomTopic,
  userSlug,
  type ChatUser,
  type ConversationHead,
  type HeadNotice,
} from './shared/chat'

export interface ChatServerOptions {
  /** @default 8787 */
  port?: number
  /** @default '127.0.0.1' */
  host?: string
  /** Where history is kept across restarts (`realtime.db`, SQLite); memory only without it. */
  dataDir?: string
  /** The engine to run on instead (`npm run demo:cluster`: a Redis engine per node); yours to close. */
  engine?: RealtimeEngine
  /** Presence goes offline after 1.5 of these without a frame, ms. @default 15_000 */
  heartbeatInterval?: number
}

export type ChatServer = RealtimeServer<ChatUser>

/** Messages kept per conversation. */
const HISTORY_LIMIT = 1000

export async function startChatServer(options: ChatServerOptions = {}): Promise<ChatServer> {
  /** Rooms created since start that have no message yet (a created room posts a notice, so this is brief). */
  const rooms = new Set<string>(DEFAULT_ROOMS.map(roomTopic))

  const isParticipant = (user: ChatUser | undefined, topic: string): boolean => {
    const members = dmMembers(topic)
    return !!user && !!members && members.some((m) => userSlug(m) === userSlug(user.name))
  }

  /** Newest sequence of a conversation (0 = no message yet). */
  const headOf = async (topic: string): Promise<number> => (await server.engine.history(topic, { limit: 0 })).head

  const server = createRealtimeServer<ChatUser>({
    port: options.port ?? 8787,
    host: options.host ?? '127.0.0.1',
    path: '/ws',
    dataDir: options.dataDir,
    engine: options.engine,
    historyLimit: HISTORY_LIMIT,
    heartbeatInterval: options.heartbeatInterval ?? 15_000,
    authenticate(_req, token) {
      const name = normalizeNickname(token)
      return name ? { name } : null
    },
    authorize(user, topic, action) {
      if (!user) return false
      if (topic.startsWith('room:')) return normalizeRoom(topic.slice(5)) === topic.slice(5)
      if (topic.startsWith('dm:')) return isParticipant(user, topic)
      if (action === 'publish') return false
      return topic === LOBBY_TOPIC || topic === inboxTopic(user.name)
    },
    onRequest: {
      /** Every room and this user's DMs, with the newest sequence of each (for unread counts). */
      async rooms(_data, client): Promise<ConversationHead[]> {
        const me = client.user!.name
        const topics = new Set<string>(rooms)
        for (const topic of await server.engine.topics()) topics.add(topic)
        for (const topic of server.topics()) topics.add(topic)
        const list: ConversationHead[] = []
        for (const topic of topics) {
          if (topic.startsWith('room:')) {
            list.push({ topic, name: topic.slice(5), kind: 'room', head: await headOf(topic) })
          } else if (isParticipant(client.user, topic)) {
            const members = dmMembers(topic)!
            const peer = userSlug(members[0]) === userSlug(me) ? members[1] : members[0]
            list.push({ topic, name: peer, kind: 'dm', head: await headOf(topic) })
          }
        }
        return list.sort((a, b) => a.name.localeCompare(b.name))
      },
      /** Creates a room: its first message is a notice, so it persists and everyone hears of it. */
      async createRoom(data, client): Promise<ConversationHead> {
        const name = normalizeRoom((data as { name?: unknown } | undefined)?.name)
        if (!name) throw new RequestError('invalid_room', 'Room names are 1–32 lowercase letters, digits, "_" or "-".')
        const topic = roomTopic(name)
        if (!rooms.has(topic) && (await headOf(topic)) === 0) {
          rooms.add(topic)
          await server.publish(topic, { system: `${client.user!.name} created #${name}` })
        }
        return { topic, name, kind: 'room', head: await headOf(topic) }
      },
    },
  })

  // Tell everyone a conversation moved on, so other rooms can show unread counts.
  server.on('publish', (message) => {
    if (message.ephemeral || message.seq === undefined) return
    const notice: HeadNotice = { topic: message.topic, seq: message.seq }
    const send = (topic: string) =>
      server.publish(topic, notice, { ephemeral: true }).catch(() => {
        /* closing: nobody left to tell */
      })
    if (message.topic.startsWith('room:')) send(LOBBY_TOPIC)
    else {
      const members = dmMembers(message.topic)
      if (members) for (const name of new Set(members)) send(inboxTopic(name))
    }
  })

  await server.ready
  return server
}
