import { EngineError } from '../engine'
import { SCRIPTS, type LuaScript } from './scripts'

/**
 * What the engine needs of a node-redis client: `createClient()` from `redis` (v6) is one.
 * Typed structurally so that `vue-realtime/server`'s types never import `redis`.
 */
export interface RedisEngineClient {
  readonly isOpen: boolean
  readonly isReady: boolean
  connect(): Promise<unknown>
  /** A new client with the same options (the engine's pub/sub connection). */
  duplicate(): RedisEngineClient
  sendCommand(args: ReadonlyArray<string>): Promise<unknown>
  subscribe(channel: string, listener: (message: string, channel: string) => void): Promise<void>
  unsubscribe(channel: string, listener: (message: string, channel: string) => void): Promise<void>
  close(): Promise<void>
  destroy(): void
  on(event: 'error' | 'ready', listener: (...args: unknown[]) => void): unknown
  off(event: 'error' | 'ready', listener: (...args: unknown[]) => void): unknown
}

const PREFIX = '[vue-realtime/server] redisEngine:'

/** `redis://user:secret@host:6379/0` → `redis://host:6379/0`: credentials never reach an error message. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url)
    parsed.username = ''
    parsed.password = ''
    return parsed.toString()
  } catch {
    return 'the configured url'
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

interface ConnectionOptions {
  url?: string
  client?: RedisEngineClient
  connectTimeout: number
}

/**
 * The engine's two Redis connections: commands and scripts on one (the caller's client, or one
 * made from `url`), pub/sub on a duplicate of it. Turns Redis failures into errors that name the
 * cause: an unreachable Redis, an out-of-memory Redis (`server_full`), a refused command.
 */
export class RedisConnection {
  client!: RedisEngineClient
  subscriber!: RedisEngineClient
  /** The last connection error either client reported (shown when a command cannot run). */
  private lastError: Error | null = null
  private readonly where: string
  private readonly owned: boolean
  private subscriberReadyOnce = false
  /**
   * The scripts being loaded (SCRIPT LOAD) on the current connection; commands wait for it. Run
   * by SHA before they are loaded, a burst of EVALSHA would fail NOSCRIPT and be sent again
   * out of order (another node may load the script meanwhile), reordering one publisher's messages.
   */
  private loaded: Promise<void> = Promise.resolve()

  constructor(
    private readonly options: ConnectionOptions,
    /** Called when the pub/sub connection is back after a loss (it re-subscribed already). */
    private readonly onResubscribed: () => void,
    /** Called when the command connection is back after a loss. */
    private readonly onReconnected?: () => void,
  ) {
    this.where = options.url ? `Redis at ${redactUrl(options.url)}` : 'Redis (the given client)'
    this.owned = !options.client
  }

  private readonly onError = (error: unknown): void => {
    this.lastError = error instanceof Error ? error : new Error(String(error))
  }

  private clientReadyOnce = false

  private readonly onClientReady = (): void => {
    this.loaded = this.loadScripts()
    if (this.clientReadyOnce) this.onReconnected?.()
    this.clientReadyOnce = true
  }

  private async loadScripts(): Promise<void> {
    await Promise.all(Object.values(SCRIPTS).map((script) => this.client.sendCommand(['SCRIPT', 'LOAD', script.source]))).catch(() => {
      // Redis went away again: EVALSHA falls back to EVAL, and the next reconnect loads them.
    })
  }

  private readonly onSubscriberReady = (): void => {
    if (this.subscriberReadyOnce) this.onResubscribed()
    this.subscriberReadyOnce = true
  }

  async open(): Promise<void> {
    if (this.options.client) {
      this.client = this.options.client
    } else {
      let redis: { createClient(options: object): RedisEngineClient }
      try {
        redis = (await import('redis')) as unknown as typeof redis
      } catch (error) {
        throw new Error(`${PREFIX} the "redis" package is missing (${message(error)}); install it with \`npm install redis\`.`, { cause: error })
      }
      // Without the offline queue a command fails at once while Redis is away, instead of hanging.
      this.client = redis.createClient({ url: this.options.url, disableOfflineQueue: true })
    }
    this.client.on('error', this.onError)
    this.client.on('ready', this.onClientReady)
    if (!this.client.isOpen) await this.connect(this.client)
    else this.onClientReady()
    await this.loaded
    this.subscriber = this.client.duplicate()
    this.subscriber.on('error', this.onError)
    this.subscriber.on('ready', this.onSubscriberReady)
    await this.connect(this.subscriber)
  }

  private async connect(client: RedisEngineClient): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${PREFIX} could not reach ${this.where} within ${this.options.connectTimeout} ms (${this.lastError?.message ?? 'no answer'}); start Redis or fix the url.`, { cause: this.lastError })),
        this.options.connectTimeout,
      )
    })
    const connecting = client.connect()
    // Given up on at the timeout, it may still settle later (rejected when close() destroys the client).
    connecting.catch(() => {})
    try {
      await Promise.race([connecting, timeout])
    } finally {
      clearTimeout(timer)
    }
  }

  /** The error of a command that could not run because Redis is away. */
  unavailable(cause: unknown = this.lastError): Error {
    const why = cause ? ` (${message(cause)})` : ''
    return new Error(`${PREFIX} ${this.where} is unreachable${why}; publishes and subscribes fail until it is back (the client reconnects by itself).`, { cause })
  }

  private failure(error: unknown, what: string): Error {
    if (!this.client.isReady) return this.unavailable(error)
    const text = message(error)
    if (text.startsWith('OOM')) {
      return new EngineError('server_full', `Redis is out of memory (${text}); retry later. Give Redis more maxmemory or lower historyLimit.`)
    }
    const kind = error instanceof Error ? error.constructor.name : ''
    if (/timeout/i.test(kind) || /timeout/i.test(text)) {
      // node-redis gives up on a command after its command timeout (5 s by default); Redis may still run it.
      return new Error(`${PREFIX} ${this.where} did not answer ${what} within the client's command timeout (${text || kind}); Redis or this server is overloaded, retry later.`, { cause: error })
    }
    return new Error(`${PREFIX} Redis refused ${what}: ${text || kind || 'no reason given'}`, { cause: error })
  }

  /** Runs a script by SHA; sends its text (EVAL, which also caches it) when Redis lacks it. */
  async run(script: LuaScript, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<unknown> {
    if (!this.client?.isReady) throw this.unavailable()
    await this.loaded
    const rest = [String(keys.length), ...keys, ...args.map(String)]
    try {
      return await this.client.sendCommand(['EVALSHA', script.sha, ...rest])
    } catch (error) {
      if (!message(error).startsWith('NOSCRIPT')) throw this.failure(error, `the ${script.name} script`)
    }
    try {
      return await this.client.sendCommand(['EVAL', script.source, ...rest])
    } catch (error) {
      throw this.failure(error, `the ${script.name} script`)
    }
  }

  async command(args: string[]): Promise<unknown> {
    if (!this.client?.isReady) throw this.unavailable()
    try {
      return await this.client.sendCommand(args)
    } catch (error) {
      throw this.failure(error, args[0])
    }
  }

  async subscribe(channel: string, listener: (message: string) => void): Promise<void> {
    if (!this.subscriber?.isReady) throw this.unavailable()
    try {
      await this.subscriber.subscribe(channel, listener)
    } catch (error) {
      throw this.subscriber.isReady ? new Error(`${PREFIX} SUBSCRIBE failed: ${message(error)}`, { cause: error }) : this.unavailable(error)
    }
  }

  /** Best effort: a pub/sub connection that is away has no subscription to end (it re-subscribes only what is listened to). */
  async unsubscribe(channel: string, listener: (message: string) => void): Promise<void> {
    await this.subscriber?.unsubscribe(channel, listener).catch(() => {})
  }

  async close(): Promise<void> {
    // The engine's own clients keep their error listener: a late socket error must not go unhandled.
    const subscriber = this.subscriber
    if (subscriber) {
      subscriber.off('ready', this.onSubscriberReady)
      subscriber.destroy()
    }
    const client = this.client
    if (!client) return
    client.off('ready', this.onClientReady)
    if (!this.owned) {
      client.off('error', this.onError)
      return
    }
    if (client.isReady) await client.close().catch(() => client.destroy())
    else client.destroy()
  }
}
