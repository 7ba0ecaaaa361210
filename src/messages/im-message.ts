/** A message the gateway accepted: it has a server id, an order key and an accept time. */
export interface ImMessage {
  /** Server message id, unique per gateway data set. */
  readonly id: string;
  /** Accept order; the inbox and every drain are sorted by it. */
  readonly seq: number;
  readonly from: string;
  readonly to: string;
  readonly body: string;
  /** Accept time, ms since the epoch. */
  readonly ts: number;
  /** The sender's own id for the message (JSON protocol), for idempotent resends. */
  readonly clientId?: string;
}
