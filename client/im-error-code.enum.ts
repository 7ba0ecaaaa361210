/** Codes the server puts in `error` frames. Unknown server codes are treated as permanent failures. */
export const ServerErrorCode = {
  BadFrame: 'BAD_FRAME',
  BadRecipient: 'BAD_RECIPIENT',
  UnknownEvent: 'UNKNOWN_EVENT',
  TooLarge: 'TOO_LARGE',
  InboxFull: 'INBOX_FULL',
  RateLimited: 'RATE_LIMITED',
  StoreUnavailable: 'STORE_UNAVAILABLE',
} as const;

/** The server stored nothing but asks for the same send later, so the send stays in the outbox. */
export const RETRYABLE_SEND_ERROR_CODES: ReadonlySet<string> = new Set([
  ServerErrorCode.RateLimited,
  ServerErrorCode.StoreUnavailable,
]);

/** Codes raised by the client itself. */
export const LocalErrorCode = {
  /** `close()` was called, or the server closed in a way the client does not recover from. */
  ClientClosed: 'CLIENT_CLOSED',
  /** `sendTimeoutMs` passed before the server confirmed the send. */
  SendTimeout: 'SEND_TIMEOUT',
  /** A `message` listener threw or rejected; the message is not acked and comes back after a reconnect. */
  HandlerFailed: 'HANDLER_FAILED',
  /** The server sent a frame this client cannot read. */
  BadServerFrame: 'BAD_SERVER_FRAME',
  /** The server accepted the connection without selecting the `im.v1.json` subprotocol. */
  ProtocolMismatch: 'PROTOCOL_MISMATCH',
  /** The WebSocket reported an error or could not be created; a reconnect follows. */
  SocketError: 'SOCKET_ERROR',
  /** `getToken` threw or rejected; a reconnect follows. */
  TokenFailed: 'TOKEN_FAILED',
  /** `send()` was called with an invalid recipient, body or id. */
  InvalidArgument: 'INVALID_ARGUMENT',
  /** The `send` frame is larger than `maxFrameBytes`; the server could never accept it. */
  FrameTooLarge: 'FRAME_TOO_LARGE',
} as const;

export type ServerErrorCode = (typeof ServerErrorCode)[keyof typeof ServerErrorCode];
export type LocalErrorCode = (typeof LocalErrorCode)[keyof typeof LocalErrorCode];
/** Every code an `ImClientError` can carry; a newer server may send codes not listed here. */
export type ImErrorCode = ServerErrorCode | LocalErrorCode | (string & {});
