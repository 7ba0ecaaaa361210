import { hash } from 'node:crypto';

/**
 * The server id of a JSON sender's message is derived from (sender, client id): a resend after
 * any crash gets the same id, so the inbox stores it once and the recipient's SDK can drop a
 * copy it already processed. 22 base64url characters = 132 bits.
 */
export function messageIdFor(sender: string, clientId: string): string {
  // A user id has no control characters, so the newline cannot be forged into another pair.
  return hash('sha256', `${sender}\n${clientId}`, 'base64url').slice(0, 22);
}

/** Messages without a client id (plain-text senders) are named by their accept order. */
export function messageIdFromSeq(seq: number): string {
  return seq.toString(36);
}
