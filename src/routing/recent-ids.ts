/**
 * Ids seen within the last `ttlMs`: the messages this node saw delivered lately. A copy of one
 * that arrives afterwards (a drain or a catch-up that read the inbox before the removal was
 * written, an envelope that was on its way) is not written again, which matters for plain text,
 * whose clients have no id to drop a copy by.
 */
export class RecentIds {
  /** In insertion order, which is expiry order. */
  private readonly seen = new Map<string, number>();

  constructor(private readonly ttlMs: number) {}

  add(id: string, now = Date.now()): void {
    this.seen.delete(id);
    this.seen.set(id, now + this.ttlMs);
    this.prune(now);
  }

  has(id: string, now?: number): boolean {
    // Outside a cluster nothing is ever added: every drained message would pay a clock read.
    if (this.seen.size === 0) return false;
    const until = this.seen.get(id);
    return until !== undefined && until > (now ?? Date.now());
  }

  get size(): number {
    return this.seen.size;
  }

  private prune(now: number): void {
    for (const [id, until] of this.seen) {
      if (until > now) return;
      this.seen.delete(id);
    }
  }
}
