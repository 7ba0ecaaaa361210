// Per-stream correctness: one sender's messages to one recipient must all arrive, in order, once.
// Loss is only known at the end (sent minus received), reordering and duplicates as they happen.

export class SequenceChecker {
  /** Next sequence number expected from this stream. */
  next = 0;
  received = 0;
  /** Messages that arrived ahead of a gap, behind the stream, or twice. */
  outOfOrder = 0;

  /** @param {number} seq */
  accept(seq) {
    this.received++;
    if (seq === this.next) {
      this.next++;
      return;
    }
    this.outOfOrder++;
    if (seq > this.next) this.next = seq + 1;
  }

  /** @param {number} sent how many the sender put on the wire */
  lost(sent) {
    return Math.max(0, sent - this.received);
  }
}
