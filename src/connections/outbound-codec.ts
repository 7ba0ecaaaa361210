import type { ImMessage } from '../messages/im-message.js';
import type { DeliveryStatus, RetryableFailure, SendFailure } from '../messages/send-listener.js';

/**
 * How a connection's protocol writes what the server says. Plain text can only carry message
 * bodies, so it answers `undefined` for the rest and nothing is sent.
 */
export interface OutboundCodec {
  message(message: ImMessage): string;
  sent(clientId: string, messageId: string, status: DeliveryStatus): string | undefined;
  receipt(messageId: string): string | undefined;
  failed(clientId: string, failure: SendFailure | RetryableFailure, reason: string): string | undefined;
}
