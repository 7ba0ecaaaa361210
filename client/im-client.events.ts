import type { ImClientError } from './im-client.error.js';

/** How the server confirmed a send: stored in the recipient's offline inbox, or acked by a recipient device. */
export type SendStatus = 'delivered' | 'queued';

/** `closed` before `connect()` and after `close()`; `reconnecting` from a lost connection until the next one opens. */
export type ImClientState = 'connecting' | 'open' | 'closed' | 'reconnecting';

/** A message addressed to this user, as the server delivered it. */
export interface ImMessage {
  /** Server message id: the same id on every redelivery. */
  readonly id: string;
  readonly from: string;
  readonly to: string;
  readonly body: string;
  /** Milliseconds since the epoch at which the server accepted the message. */
  readonly ts: number;
}

/** A message of ours that the server had queued is now delivered. */
export interface ImReceipt {
  readonly messageId: string;
  readonly status: 'delivered';
  /** Client id of the send, when this client sent it and still remembers it. */
  readonly id?: string;
}

export interface ImCloseInfo {
  readonly code: number;
  readonly reason: string;
  /** False when the client stopped: `close()` was called or the server refused to have it back. */
  readonly willReconnect: boolean;
}

/** Payload of each event. */
export interface ImClientEventMap {
  message: ImMessage;
  receipt: ImReceipt;
  // biome-ignore lint/suspicious/noConfusingVoidType: 'open' carries no payload, so its listeners take no argument.
  open: void;
  close: ImCloseInfo;
  error: ImClientError;
  state: ImClientState;
}

export type ImClientEvent = keyof ImClientEventMap;

/** `message` listeners may be async: the client awaits them, one message at a time, before acking. */
export type ImClientListener<E extends ImClientEvent> = (
  payload: ImClientEventMap[E],
) => E extends 'message' ? void | Promise<void> : void;
