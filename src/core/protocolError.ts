/** An error the server sent (`error` frame or `response.error`), or a client-side timeout/close. */
export class RealtimeProtocolError extends Error {
  constructor(
    /** Protocol error code (`forbidden`, `invalid_topic`, `timeout`, `closed`...). */
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options)
    this.name = 'RealtimeProtocolError'
  }
}
