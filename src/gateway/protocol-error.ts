import type { ErrorCode } from '../messages/error-code.js';

/** A client mistake or a refusal, answered with an `error` frame; the connection stays open. */
export class ProtocolError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** The client message id the error is about, when known. */
    readonly id?: string,
  ) {
    super(message);
  }
}
