/**
 * The classic token bucket: `burst` frames at once, refilled at `perSecond`. It also remembers
 * since when the client has been over the limit without a pause.
 */
export class TokenBucket {
  private tokens: number;
  private refilledAt: number;
  /** When the current unbroken run of refused frames began; 0 when the client is within limits. */
  limitedSince = 0;

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
      this.limitedSince = 0;
      return true;
    }
    if (this.limitedSince === 0) this.limitedSince = now;
    return false;
  }
}
