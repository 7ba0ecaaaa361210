/** What became of an accepted message: a recipient device has it, or the inbox durably does. */
export type DeliveryStatus = 'delivered' | 'queued';

/** Why a send was not accepted after all (it passed validation, then the inbox refused it). */
export type SendFailure = 'INBOX_FULL' | 'STORE_UNAVAILABLE';

/** Whoever waits for the outcome of a send: a JSON connection, or an admin API request. */
export interface SendListener {
  confirm(clientId: string, messageId: string, status: DeliveryStatus): void;
  fail(clientId: string, failure: SendFailure, reason: string): void;
}
