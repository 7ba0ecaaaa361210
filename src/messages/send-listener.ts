/** What became of an accepted message: a recipient device has it, or the inbox durably does. */
export type DeliveryStatus = 'delivered' | 'queued';

/** Why a send was not accepted after all (it passed validation, then the inbox refused it). */
export type SendFailure = 'INBOX_FULL' | 'STORE_UNAVAILABLE';

/** Refusals after which the client sends the same message again, later: nothing was stored. */
export type RetryableFailure = 'RATE_LIMITED' | 'STORE_UNAVAILABLE';

/** Whoever waits for the outcome of a send: a JSON connection, or an admin API request. */
export interface SendListener {
  confirm(clientId: string, messageId: string, status: DeliveryStatus): void;
  /** `order`: the refused send's place among its connection's sends, where it is known. */
  fail(clientId: string, failure: SendFailure, reason: string, order?: number): void;
  /**
   * True when this sender's send number `order` (its place among the connection's sends) must not
   * be routed on now: an earlier send was refused and has not come again (routed, this one would
   * go ahead of it; `SendFence`), or the connection has closed (the client sends it again on its
   * next one). Absent: never.
   */
  holdsBack?(order: number): boolean;
}
