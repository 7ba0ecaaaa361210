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

/**
 * Ids of messages without a client id (plain-text senders): a per-process prefix and a counter,
 * far cheaper than formatting each sequence number. The prefix is a sequence number above every
 * one stored at boot, so it differs from the prefix of any process whose messages are still in
 * the inbox; in a cluster it starts with the node id, unique among the nodes.
 */
export class PlainMessageIds {
  private prefix = '';
  private counter = 0;

  /** `node`: in a cluster, this node's id, so that two nodes started in the same millisecond differ. */
  startAbove(seq: number, node?: string): void {
    this.prefix = node === undefined ? `${(seq + 1).toString(36)}.` : `${node}.${(seq + 1).toString(36)}.`;
    this.counter = 0;
  }

  next(): string {
    return this.prefix + ++this.counter;
  }
}
