import { ErrorCode, type RequestFrame, type ResponseFrame } from '../core/protocol'
import type { ClientConnection } from './client'
import type { ServerContext } from './context'

/** Throw from a request handler to answer `{ error: { code, message } }` with your own code. */
export class RequestError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message)
    this.name = 'RequestError'
  }
}

/** Runs the request handler and answers with `response`; never throws. */
export async function answerRequest<User>(ctx: ServerContext<User>, client: ClientConnection<User>, frame: RequestFrame): Promise<void> {
  const handler = ctx.options.onRequest
  let response: ResponseFrame
  try {
    let data: unknown
    if (typeof handler === 'function') {
      data = await handler(frame.method, frame.data, client)
    } else if (handler && Object.hasOwn(handler, frame.method)) {
      // hasOwn, so that "constructor" or "__proto__" never reach Object.prototype.
      data = await handler[frame.method](frame.data, client, frame.method)
    } else {
      throw new RequestError(ErrorCode.NotFound, `Unknown request method "${frame.method}".`)
    }
    response = data === undefined ? { type: 'response', id: frame.id } : { type: 'response', id: frame.id, data }
    // Fails here (not in send) on BigInt or cycles, so the client still gets an answer.
    client.sendText(JSON.stringify(response))
    return
  } catch (error) {
    if (error instanceof RequestError) {
      response = { type: 'response', id: frame.id, error: { code: error.code, message: error.message } }
    } else {
      ctx.report(error, `request handler for "${frame.method}"`)
      response = { type: 'response', id: frame.id, error: { code: ErrorCode.Internal, message: 'The request handler failed.' } }
    }
  }
  client.send(response)
}
