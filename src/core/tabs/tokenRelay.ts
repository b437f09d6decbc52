/**
 * The token of a shared socket: the leader's, until a tab's changes. A tab that calls
 * `reconnect()` after its token changed announces it to every tab; the leader reconnects with
 * the latest change, which a later change of the leader's own token overrides again. Tokens
 * travel between the tabs of one origin only and are never printed.
 */
import type { ConnectionOptions } from '../types'

type Token = string | null | undefined

export class TokenRelay {
  readonly #option: ConnectionOptions['token']
  /** The latest token any tab announced (undefined: none), and this tab's own as last read. */
  #latest: Token
  #own: Token

  constructor(option: ConnectionOptions['token']) {
    this.#option = option
  }

  /** Another tab announced its token. */
  heard(token: string | null): void {
    this.#latest = token
  }

  /** The token to connect with now (the leader reads it before every attempt). */
  current(): Token {
    const own = this.#read()
    if (own !== this.#own) this.#latest = this.#own = own
    return this.#latest !== undefined ? this.#latest : own
  }

  /** This tab's token if it changed since it was last announced or read (to post to the others), else undefined. */
  changed(): string | null | undefined {
    if (this.#option === undefined) return undefined
    let token: string | null
    try {
      token = this.#read() ?? null
    } catch {
      return undefined // the leader reads it again and reports the error
    }
    if (token === this.#latest) return undefined
    this.#latest = this.#own = token
    return token
  }

  #read(): Token {
    return typeof this.#option === 'function' ? this.#option() : this.#option
  }
}
