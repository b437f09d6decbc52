import { ref, type ShallowRef } from 'vue'
import { describe, expectTypeOf, it } from 'vitest'
import {
  closeCodeInfo,
  Connection,
  ConnectionManager,
  createRealtime,
  useRealtime,
  useRealtimeUrl,
  useWebSocket,
  useChannel,
  INSPECTOR_ID,
  TIMELINE_LAYER_ID,
  ProtocolClient,
  type ChannelSnapshot,
  type RealtimeTimelineEvent,
  type ChannelMessage,
  type GapInfo,
  type PendingPublish,
  type UseChannelOptions,
  type CloseCodeInfo,
  type CloseInfo,
  type ConnectionStatus,
  type ReadyState,
  type RealtimeErrorInfo,
  type RealtimeOptions,
  type RealtimePlugin,
  type SendResult,
  type UseWebSocketOptions,
  type UseWebSocketReturn,
} from 'vue-realtime'
import { useRealtimeStore } from 'vue-realtime/pinia'

interface ChatIn {
  type: 'chat'
  text: string
}
interface ChatOut {
  type: 'say'
  text: string
}

describe('useWebSocket', () => {
  it('types messages, data and send from its generics', () => {
    const ws = useWebSocket<ChatIn, ChatOut>('ws://x', {
      onMessage: (message) => expectTypeOf(message).toEqualTypeOf<ChatIn>(),
      filter: (message) => message.type === 'chat',
    })
    expectTypeOf(ws).toEqualTypeOf<UseWebSocketReturn<ChatIn, ChatOut>>()
    expectTypeOf(ws.messages.value).toEqualTypeOf<readonly ChatIn[]>()
    expectTypeOf(ws.data.value).toEqualTypeOf<ChatIn | undefined>()
    expectTypeOf(ws.send({ type: 'say', text: 'hi' })).toEqualTypeOf<SendResult>()
    ws.send('raw text')
    ws.send(new Uint8Array(2), { volatile: true, ttl: 1000 })
    // @ts-expect-error not an Out
    ws.send({ type: 'shout' })
    expectTypeOf(ws.connection.value).toEqualTypeOf<Connection<ChatIn, ChatOut> | undefined>()
  })

  it('returns the DESIGN.md members with their types, read-only', () => {
    const ws = useWebSocket('ws://x')
    expectTypeOf(ws.readyState.value).toEqualTypeOf<ReadyState>()
    expectTypeOf(ws.status.value).toEqualTypeOf<ConnectionStatus>()
    expectTypeOf(ws.messages.value).toEqualTypeOf<readonly unknown[]>()
    expectTypeOf(ws.error.value).toEqualTypeOf<RealtimeErrorInfo | null>()
    expectTypeOf(ws.lastClose.value).toEqualTypeOf<CloseInfo | null>()
    expectTypeOf(ws.attempt.value).toEqualTypeOf<number>()
    expectTypeOf(ws.nextRetryAt.value).toEqualTypeOf<number | null>()
    expectTypeOf(ws.retryIn.value).toEqualTypeOf<number | null>()
    expectTypeOf(ws.queued.value).toEqualTypeOf<number>()
    expectTypeOf(ws.dropped.value).toEqualTypeOf<number>()
    expectTypeOf(ws.latency.value).toEqualTypeOf<number | null>()
    expectTypeOf(ws.open).toEqualTypeOf<() => void>()
    expectTypeOf(ws.close).toEqualTypeOf<(code?: number, reason?: string) => void>()
    expectTypeOf(ws.reconnect).toEqualTypeOf<() => void>()
    expectTypeOf(ws.clear).toEqualTypeOf<() => void>()
    expectTypeOf(ws.status).toMatchTypeOf<Readonly<ShallowRef<ConnectionStatus>>>()
    // @ts-expect-error refs are read-only
    ws.status.value = 'open'
  })

  it('accepts refs, getters and undefined as URL, and the consumer options', () => {
    useWebSocket(() => undefined)
    useWebSocket(new URL('ws://x'))
    const options: UseWebSocketOptions<ChatIn> = {
      immediate: false,
      maxMessages: 10,
      manager: new ConnectionManager(),
      onOpen: ({ protocol }) => expectTypeOf(protocol).toBeString(),
      onClose: (info) => expectTypeOf(info).toEqualTypeOf<CloseInfo>(),
      onError: (error) => expectTypeOf(error).toEqualTypeOf<RealtimeErrorInfo>(),
      heartbeat: { interval: 1000 },
      reconnect: false,
    }
    useWebSocket<ChatIn>('ws://x', options)
    useWebSocket('ws://x', { reconnect: { minDelay: 500, serverHint: false } })
    // @ts-expect-error serverHint is a boolean
    useWebSocket('ws://x', { reconnect: { serverHint: 'yes' } })
    // @ts-expect-error not a URL
    useWebSocket(42)
  })
})

describe('plugin', () => {
  it('createRealtime takes connection defaults, url and devtools', () => {
    const realtime = createRealtime({
      url: 'wss://example.com/ws',
      heartbeat: { interval: 25_000, timeout: 10_000 },
      idleTimeout: 500,
      devtools: { addTimelineEvent: (event) => expectTypeOf(event.title).toBeString() },
    })
    expectTypeOf(realtime).toEqualTypeOf<RealtimePlugin>()
    expectTypeOf(realtime.manager).toEqualTypeOf<ConnectionManager>()
    expectTypeOf<RealtimeOptions['devtools']>().toEqualTypeOf<boolean | { addTimelineEvent: (event: import('vue-realtime').RealtimeTimelineEvent) => void } | undefined>()
    expectTypeOf(useRealtime()).toEqualTypeOf<ConnectionManager>()
    expectTypeOf(useRealtimeUrl()).toEqualTypeOf<string | undefined>()
    // @ts-expect-error unknown option
    createRealtime({ urls: 'x' })
  })

  it('devtools ids and the channel snapshot the inspector reads are typed', () => {
    expectTypeOf(INSPECTOR_ID).toBeString()
    expectTypeOf(TIMELINE_LAYER_ID).toBeString()
    const connection = new Connection('ws://x')
    const snapshot = ProtocolClient.peek(connection)?.channels()[0]
    expectTypeOf(snapshot).toEqualTypeOf<ChannelSnapshot | undefined>()
    expectTypeOf<ChannelSnapshot['epoch']>().toEqualTypeOf<string | undefined>()
    expectTypeOf<ChannelSnapshot['presence']>().toEqualTypeOf<readonly import('vue-realtime').PresenceMember[]>()
    expectTypeOf<RealtimeTimelineEvent['groupId']>().toBeString()
  })

  it('exports closeCodeInfo and SendResult', () => {
    expectTypeOf(closeCodeInfo(1000)).toEqualTypeOf<CloseCodeInfo>()
    expectTypeOf<SendResult>().toEqualTypeOf<'sent' | 'queued' | 'dropped'>()
  })
})

describe('useRealtimeStore', () => {
  it('has typed state, getters and actions', () => {
    const store = useRealtimeStore()
    expectTypeOf(store.$id).toEqualTypeOf<'realtime'>()
    const info = store.connections['ws://x']!
    expectTypeOf(info.status).toEqualTypeOf<ConnectionStatus>()
    expectTypeOf(info.readyState).toEqualTypeOf<ReadyState>()
    expectTypeOf(info.nextRetryAt).toEqualTypeOf<number | null>()
    expectTypeOf(info.latency).toEqualTypeOf<number | null>()
    expectTypeOf(info.queued).toEqualTypeOf<number>()
    expectTypeOf(info.received).toEqualTypeOf<number>()
    expectTypeOf(info.sent).toEqualTypeOf<number>()
    expectTypeOf(info.lastClose?.code).toEqualTypeOf<number | undefined>()
    expectTypeOf(store.openCount).toEqualTypeOf<number>()
    expectTypeOf(store.anyReconnecting).toEqualTypeOf<boolean>()
    expectTypeOf(store.connect<ChatIn, ChatOut>('ws://x')).toEqualTypeOf<Connection<ChatIn, ChatOut> | undefined>()
    expectTypeOf(store.disconnect('ws://x')).toEqualTypeOf<void>()
    expectTypeOf(store.send('ws://x', { any: 'thing' })).toEqualTypeOf<SendResult>()
  })
})

describe('useChannel types', () => {
  it('types payloads per topic, publish, pending and presence', () => {
    interface Chat {
      text: string
    }
    const channel = useChannel<Chat>('room:general', { parse: (v) => v as Chat, history: 10 })
    expectTypeOf(channel.messages.value).toEqualTypeOf<readonly ChannelMessage<Chat>[]>()
    expectTypeOf(channel.messages.value[0].data).toEqualTypeOf<Chat>()
    expectTypeOf(channel.publish).parameter(0).toEqualTypeOf<Chat>()
    expectTypeOf(channel.publish({ text: 'hi' })).resolves.toHaveProperty('id')
    expectTypeOf(channel.pending.value[0]).toEqualTypeOf<PendingPublish<Chat>>()
    expectTypeOf(channel.pending.value[0].state).toEqualTypeOf<'pending' | 'sent' | 'failed'>()
    expectTypeOf(channel.recovered.value).toEqualTypeOf<boolean | null>()
    expectTypeOf(channel.request<number>()).resolves.toEqualTypeOf<number>()
    // @ts-expect-error a payload of the wrong shape does not type-check
    channel.publish({ body: 'nope' })
    expectTypeOf<UseChannelOptions<Chat>['parse']>().toEqualTypeOf<((value: unknown) => Chat) | undefined>()
  })

  it('takes a token as a string, a getter or a ref; returns lastClose, reconnect and pending topics', () => {
    const token = ref<string | null>('t')
    useChannel('room:a', { token: 'abc' })
    useChannel('room:a', { token: () => token.value })
    const channel = useChannel('room:a', { token, onGap: (info) => expectTypeOf(info).toEqualTypeOf<GapInfo>() })
    // @ts-expect-error a token is text
    useChannel('room:a', { token: 42 })
    expectTypeOf(channel.lastClose.value).toEqualTypeOf<CloseInfo | null>()
    expectTypeOf(channel.reconnect).toEqualTypeOf<() => void>()
    expectTypeOf(channel.pending.value[0].topic).toEqualTypeOf<string>()
    expectTypeOf<GapInfo['epoch']>().toEqualTypeOf<string | undefined>()
    createRealtime({ token: 'abc' })
    createRealtime({ token: () => token.value })
    createRealtime({ token })
    // @ts-expect-error a token is text
    createRealtime({ token: 42 })
  })
})

describe('Connection.sendFrame', () => {
  it('takes the outbound type and a callback told whether the frame was written', () => {
    const connection = new Connection<ChatIn, ChatOut>('ws://x')
    expectTypeOf(connection.sendFrame({ type: 'say', text: 'hi' }, (written) => expectTypeOf(written).toEqualTypeOf<boolean>())).toEqualTypeOf<SendResult>()
    expectTypeOf(connection.sendFrame('raw text')).toEqualTypeOf<SendResult>()
    // @ts-expect-error not the connection's outbound type
    connection.sendFrame({ type: 'chat', text: 'hi' })
  })
})
