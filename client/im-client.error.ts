import { LocalErrorCode, type ImErrorCode } from './im-error-code.enum.js';

/** What a local error says when no more specific message is given: one place for the wording. */
const LOCAL_ERROR_MESSAGES: Record<LocalErrorCode, string> = {
  [LocalErrorCode.ClientClosed]: 'The client is closed',
  [LocalErrorCode.SendTimeout]: 'The server did not confirm the send in time',
  [LocalErrorCode.HandlerFailed]: 'A message listener failed; the message was not acked',
  [LocalErrorCode.BadServerFrame]: 'The server sent a frame this client cannot read',
  [LocalErrorCode.ProtocolMismatch]: 'The server did not select the im.v1.json subprotocol',
  [LocalErrorCode.SocketError]: 'WebSocket error',
  [LocalErrorCode.TokenFailed]: 'getToken failed',
  [LocalErrorCode.InvalidArgument]: 'Invalid argument',
  [LocalErrorCode.FrameTooLarge]: 'The send frame is larger than the server accepts',
};

export interface ImClientErrorDetails {
  message?: string;
  /** Client message id of the send this error belongs to. */
  id?: string;
  /** Server message id of the incoming message this error belongs to. */
  messageId?: string;
  /** Close code of the connection whose end caused this error. */
  closeCode?: number;
  cause?: unknown;
}

/** Every error the client reports, through a rejected promise or the `error` event, carries a code. */
export class ImClientError extends Error {
  override readonly name = 'ImClientError';
  readonly id?: string;
  readonly messageId?: string;
  readonly closeCode?: number;

  constructor(
    readonly code: ImErrorCode,
    details: ImClientErrorDetails = {},
  ) {
    super(details.message ?? defaultMessage(code), { cause: details.cause });
    if (details.id !== undefined) this.id = details.id;
    if (details.messageId !== undefined) this.messageId = details.messageId;
    if (details.closeCode !== undefined) this.closeCode = details.closeCode;
  }
}

function defaultMessage(code: ImErrorCode): string {
  return (LOCAL_ERROR_MESSAGES as Record<string, string>)[code] ?? code;
}
