import { defineStore } from 'pinia'
import { computed, reactive, ref, watch } from 'vue'
import {
  LOBBY_TOPIC,
  dmMembers,
  dmTopic,
  inboxTopic,
  normalizeRoom,
  parseChatPayload,
  roomTopic,
  userSlug,
  type ChatPayload,
  type ChatUser,
  type ConversationHead,
  type HeadNotice,
  type TypingPayload,
} from '../../shared/chat'
import { useChannel, type ChannelMessage } from '../realtime'
import { useSessionStore } from './session'

/** A publish waits this long for its ack, across reconnects and offline spells, before it shows Retry. */
const PUBLISH_TIMEOUT = 10 * 60_000
/** Conversation replayed on join. */
const HISTORY = 200
/** A typing notice is shown this long unless renewed. */
const TYPING_SHOWN_MS = 5000
/** At most one typing notice per this long while typing. */
const TYPING_THROTTLE_MS = 2500

export interface Conversation {
  topic: string
  kind: 'room' | 'dm'
  /** Room name, or the other user's nickname. */
  name: string
  /** Newest sequence known (0 = empty). */
  head: number
}

export type DeliveryState = 'pending' | 'sent' | 'delivered' | 'failed'

/** One line of the message list. */
export interface TimelineItem {
  id: string
  author: string
  mine: boolean
  /** Chat text, or a server notice when `system`. */
  text: string
  system: boolean
  ts: number
  /** Delivery mark of this user's own messages; null for others'. */
  delivery: DeliveryState | null
  error?: string
}

export interface Person {
  name: string
  me: boolean
  /** online: connected and heard from; away: connected but silent; offline: seen in this conversation only. */
  state: 'online' | 'away' | 'offline'
}

type Inbound = ChatPayload | TypingPayload

function authorOf(message: ChannelMessage<unknown>): string {
  return (message.user as ChatUser | undefined)?.name ?? (message.from === 'server' ? 'server' : 'unknown')
}

function newId(): string {
  return crypto.randomUUID?.() ?? `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`
}

/** The conversations, the open one's messages, presence, typing and unread counts. */
export const useChatStore = defineStore('chat', () => {
  const session = useSessionStore()
  const url = computed(() => session.url)
  const me = computed(() => session.nickname ?? '')

  const active = ref<Conversation>({ topic: roomTopic(session.firstRoom), kind: 'room', name: session.firstRoom, head: 0 })
  const conversations = ref<Record<string, Conversation>>({})
  /** Last sequence read per topic, persisted per nickname. */
  const readSeq = ref<Record<string, number>>({})
  /** Nickname → when their typing notice expires (epoch ms). */
  const typingUntil = reactive(new Map<string, number>())
  /** Which topic each of this user's publishes went to (`pending` of useChannel is per channel, not per topic). */
  const outgoingTopic = new Map<string, string>()

  const topic = computed(() => (session.nickname ? active.value.topic : undefined))

  const channel = useChannel<Inbound>(topic, {
    url,
    history: HISTORY,
    parse: parseChatPayload,
    publishTimeout: PUBLISH_TIMEOUT,
    onEphemeral(message) {
      const author = authorOf(message)
      if ('typing' in message.data && message.topic === topic.value && author !== me.value) {
        typingUntil.set(author, Date.now() + TYPING_SHOWN_MS)
      }
    },
    onMessage(message) {
      typingUntil.delete(authorOf(message))
      noteHead({ topic: message.topic, seq: message.seq ?? 0 })
    },
  })
  const lobby = useChannel<HeadNotice>(() => (session.nickname ? LOBBY_TOPIC : undefined), {
    url,
    history: 0,
    onEphemeral: (message) => noteHead(message.data),
  })
  const inbox = useChannel<HeadNotice>(() => (session.nickname ? inboxTopic(session.nickname) : undefined), {
    url,
    history: 0,
    onEphemeral: (message) => noteHead(message.data),
  })

  // ── unread counts ────────────────────────────────────────────────────────────

  const readKey = () => `vue-realtime-chat:read:${userSlug(me.value)}`
  const loadReads = () => {
    try {
      readSeq.value = JSON.parse(localStorage.getItem(readKey()) ?? '{}') as Record<string, number>
    } catch {
      readSeq.value = {}
    }
  }
  watch(me, loadReads, { immediate: true })
  watch(
    readSeq,
    (value) => {
      try {
        if (me.value) localStorage.setItem(readKey(), JSON.stringify(value))
      } catch {
        /* storage full or disabled: unread counts reset on reload */
      }
    },
    { deep: true },
  )

  function describe(topicName: string): Conversation | null {
    if (topicName.startsWith('room:')) return { topic: topicName, kind: 'room', name: topicName.slice(5), head: 0 }
    const members = dmMembers(topicName)
    if (!members) return null
    const peer = userSlug(members[0]) === userSlug(me.value) ? members[1] : members[0]
    return { topic: topicName, kind: 'dm', name: peer, head: 0 }
  }

  function noteHead(notice: HeadNotice, fromList = false): void {
    let entry = conversations.value[notice.topic]
    if (!entry) {
      const described = describe(notice.topic)
      if (!described) return
      entry = conversations.value[notice.topic] = described
      // A room seen for the first time starts read (no wall of unread history); a DM starts unread.
      if (readSeq.value[notice.topic] === undefined) readSeq.value[notice.topic] = fromList && described.kind === 'room' ? notice.seq : 0
    }
    if (notice.seq > entry.head) entry.head = notice.seq
  }

  function unread(topicName: string): number {
    if (topicName === active.value.topic) return 0
    const entry = conversations.value[topicName]
    return entry ? Math.max(0, entry.head - (readSeq.value[topicName] ?? 0)) : 0
  }

  /** Reloads the list of conversations (on join and after every reconnect: notices sent meanwhile were missed). */
  async function refresh(): Promise<void> {
    try {
      const list = await lobby.request<ConversationHead[]>(undefined, { method: 'rooms', timeout: 5000 })
      for (const head of list) noteHead({ topic: head.topic, seq: head.head }, true)
    } catch {
      /* offline or restarting: the next (re)subscribe refreshes again */
    }
  }
  watch(lobby.subscribed, (subscribed) => {
    if (subscribed) void refresh()
  })

  const rooms = computed(() =>
    Object.values(conversations.value)
      .filter((c) => c.kind === 'room')
      .sort((a, b) => a.name.localeCompare(b.name)),
  )
  const directs = computed(() =>
    Object.values(conversations.value)
      .filter((c) => c.kind === 'dm')
      .sort((a, b) => a.name.localeCompare(b.name)),
  )

  // ── the open conversation ────────────────────────────────────────────────────

  const current = computed(() => channel.messages.value.filter((m) => m.topic === active.value.topic))

  // Everything shown is read.
  watch(current, (messages) => {
    const last = messages.at(-1)?.seq
    if (last !== undefined && (readSeq.value[active.value.topic] ?? 0) < last) readSeq.value[active.value.topic] = last
  })

  const timeline = computed<TimelineItem[]>(() => {
    const delivered = new Set<string>()
    const items: TimelineItem[] = current.value.map((m) => {
      const author = authorOf(m)
      const mine = author === me.value && m.from !== 'server'
      delivered.add(String(m.id))
      const data = m.data as ChatPayload
      const system = 'system' in data
      return { id: String(m.id), author, mine, text: system ? data.system : data.text, system, ts: m.ts, delivery: mine ? 'delivered' : null }
    })
    for (const p of channel.pending.value) {
      if (delivered.has(p.id) || outgoingTopic.get(p.id) !== active.value.topic || !('text' in p.data)) continue
      items.push({
        id: p.id,
        author: me.value,
        mine: true,
        text: p.data.text,
        system: false,
        ts: Date.now(),
        delivery: p.state,
        error: p.error?.message,
      })
    }
    return items
  })

  const people = computed<Person[]>(() => {
    const byName = new Map<string, Person>()
    const rank = { online: 2, away: 1, offline: 0 } as const
    for (const member of channel.presence.value) {
      const name = (member.user as ChatUser | undefined)?.name
      if (!name) continue
      const state = member.online ? 'online' : 'away'
      const seen = byName.get(name)
      if (!seen || rank[state] > rank[seen.state]) byName.set(name, { name, me: name === me.value, state })
    }
    const others = active.value.kind === 'dm' ? [active.value.name] : []
    for (const name of [...others, ...current.value.map(authorOf)]) {
      if (name !== 'server' && !byName.has(name)) byName.set(name, { name, me: name === me.value, state: 'offline' })
    }
    return [...byName.values()].sort((a, b) => rank[b.state] - rank[a.state] || Number(b.me) - Number(a.me) || a.name.localeCompare(b.name))
  })

  function typingNames(now: number): string[] {
    return [...typingUntil].filter(([, until]) => until > now).map(([name]) => name)
  }

  // ── actions ──────────────────────────────────────────────────────────────────

  function open(conversation: Pick<Conversation, 'topic'>): void {
    const target = conversations.value[conversation.topic] ?? describe(conversation.topic)
    if (!target || target.topic === active.value.topic) return
    conversations.value[target.topic] ??= target
    active.value = target
    // useChannel empties `messages` on a topic switch; the new topic replays its history.
    typingUntil.clear()
  }

  function openDm(peer: string): void {
    if (peer !== me.value) open({ topic: dmTopic(me.value, peer) })
  }

  /** Opens a room, creating it first when nobody has; returns an error sentence or null. */
  async function openRoom(input: string): Promise<string | null> {
    const name = normalizeRoom(input)
    if (!name) return 'Room names are 1–32 lowercase letters, digits, "_" or "-".'
    const topicName = roomTopic(name)
    if (!conversations.value[topicName]) {
      try {
        const head = await channel.request<ConversationHead>({ name }, { method: 'createRoom', timeout: 5000 })
        noteHead({ topic: head.topic, seq: head.head })
      } catch (cause) {
        return `Could not create #${name}: ${(cause as Error).message.replace(/^vue-realtime: /, '')}`
      }
    }
    open({ topic: topicName })
    return null
  }

  /** Sends a chat message; it shows at once as pending and stays until acknowledged (or Retry). */
  function send(text: string): boolean {
    const body = text.trim()
    if (!body || !topic.value) return false
    const id = newId()
    outgoingTopic.set(id, topic.value)
    // A rejection leaves the message in `pending` as failed, with its Retry button.
    channel.publish({ text: body }, { id }).then(
      () => outgoingTopic.delete(id),
      () => {},
    )
    lastTypingSent = 0
    return true
  }

  function retry(id: string): void {
    channel.retry(id)?.then(
      () => outgoingTopic.delete(id),
      () => {},
    )
  }

  let lastTypingSent = 0
  function typing(): void {
    const now = Date.now()
    if (channel.status.value !== 'open' || now - lastTypingSent < TYPING_THROTTLE_MS) return
    lastTypingSent = now
    channel.publish({ typing: true }, { ephemeral: true, timeout: 5000 }).catch(() => {
      /* a lost typing notice does not matter */
    })
  }

  /** Back to the join screen: the nickname goes, so every channel releases the connection. */
  function reset(): void {
    channel.clear()
    conversations.value = {}
    typingUntil.clear()
    outgoingTopic.clear()
  }

  // Joining (again) opens the room chosen on the join screen.
  watch(
    () => session.nickname,
    (nickname) => {
      if (!nickname) return reset()
      const first = describe(roomTopic(session.firstRoom))!
      conversations.value[first.topic] ??= first
      if (active.value.topic !== first.topic) {
        active.value = first
        channel.clear()
      }
    },
    { immediate: true },
  )

  return {
    me,
    url,
    active,
    rooms,
    directs,
    timeline,
    people,
    typingUntil,
    status: channel.status,
    subscribed: channel.subscribed,
    pending: channel.pending,
    inboxSubscribed: inbox.subscribed,
    unread,
    typingNames,
    open,
    openDm,
    openRoom,
    send,
    retry,
    typing,
    reset,
  }
})
