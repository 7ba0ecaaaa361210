/** Stable error codes of the JSON protocol; clients switch on these, so they never change meaning. */
export const ErrorCode = {
  /** Not JSON, not `{"event","data"}`, or a field of the wrong type. */
  BAD_FRAME: 'BAD_FRAME',
  /** `to` is not a valid user id. */
  BAD_RECIPIENT: 'BAD_RECIPIENT',
  /** `event` is not one the server accepts. */
  UNKNOWN_EVENT: 'UNKNOWN_EVENT',
  /** The frame is larger than MAX_PAYLOAD_BYTES, or an ack names too many ids. */
  TOO_LARGE: 'TOO_LARGE',
  /** The recipient's offline inbox is at INBOX_MAX_MESSAGES or INBOX_MAX_BYTES; nothing was stored. */
  INBOX_FULL: 'INBOX_FULL',
  /** The connection sends faster than RATE_LIMIT_PER_SECOND; the frame was not accepted. */
  RATE_LIMITED: 'RATE_LIMITED',
  /** A `refresh` token was refused; the connection keeps its current token until it expires. */
  BAD_TOKEN: 'BAD_TOKEN',
  /** The offline store could not take the message; nothing was stored, retry later. */
  STORE_UNAVAILABLE: 'STORE_UNAVAILABLE',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** The one text for STORE_UNAVAILABLE, whichever door the message came in by. */
export const STORE_UNAVAILABLE_TEXT = 'offline store unavailable: nothing was stored, retry later';
