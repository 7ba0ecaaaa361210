import type { ImMessage } from '../routing/im-message.js';

export type DeliveryStatus = 'delivered' | 'queued';

/**
 * How a connection's protocol writes what the server says. Plain text can only carry message
 * bodies, so it answers `undefined` for the rest and nothing is sent.
 */
export interface OutboundCodec {
  message(message: ImMessage): string;
  sent(clientId: string, messageId: string, status: DeliveryStatus): string | undefined;
  receipt(messageId: string): string | undefined;
  failed(clientId: string, failure: SendFailure, reason: string): string | undefined;
}

/** Why a send was not accepted after all (it passed validation, then the inbox refused it). */
export type SendFailure = 'INBOX_FULL' | 'STORE_UNAVAILABLE';

/** Whoever waits for the outcome of a send: a JSON connection, or an admin API request. */
export interface SendListener {
  confirm(clientId: string, messageId: string, status: DeliveryStatus): void;
  fail(clientId: string, failure: SendFailure, reason: string): void;
}
