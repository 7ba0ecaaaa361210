/**
 * Sequence numbers are `ms * SEQ_PER_MS + n`: they sort by accept time across restarts without a
 * stored counter, and stay exact doubles until year 2255. 1,024 per millisecond is far above one
 * process's rate; beyond it the clock simply runs a little ahead until traffic falls.
 */
const SEQ_PER_MS = 1024;

/** A monotonic accept-order clock: never repeats, never goes backwards, even if the wall clock does. */
export class MessageSequence {
  private last = 0;

  /** Numbers from now on are above `seq` (the highest one already stored, whatever the clock says). */
  advancePast(seq: number): void {
    if (seq > this.last) this.last = seq;
  }

  /** `now`: the accept time in ms, which the caller already has. */
  next(now: number): number {
    const candidate = now * SEQ_PER_MS;
    this.last = candidate > this.last ? candidate : this.last + 1;
    return this.last;
  }
}
