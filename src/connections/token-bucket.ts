/** A client with no refused frame for this long has come back within the limit. */
const COMPLIANT_AFTER_MS = 1_000;

/**
 * The classic token bucket: `burst` frames at once, refilled at `perSecond`. It also remembers
 * since when the client has been over the limit: a run of refusals with no refusal-free second.
 */
export class TokenBucket {
  private tokens: number;
  private refilledAt: number;
  /** When the client went over the limit; 0 when it is within it. */
  limitedSince = 0;
  private refusedAt = 0;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    now = Date.now(),
  ) {
    this.tokens = burst;
    this.refilledAt = now;
  }

  /** Takes one token; false when the bucket is empty. */
  take(now: number): boolean {
    const elapsed = now - this.refilledAt;
    if (elapsed > 0) {
      this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.perSecond) / 1000);
      this.refilledAt = now;
    }
    if (this.tokens >= 1) {
      this.tokens -= 1;
      if (this.limitedSince !== 0 && now - this.refusedAt > COMPLIANT_AFTER_MS) this.limitedSince = 0;
      return true;
    }
    if (this.limitedSince === 0 || now - this.refusedAt > COMPLIANT_AFTER_MS) this.limitedSince = now;
    this.refusedAt = now;
    return false;
  }
}
