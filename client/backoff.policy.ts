export interface BackoffOptions {
  readonly initialDelayMs: number;
  readonly factor: number;
  readonly maxDelayMs: number;
  /** Returns a number in [0, 1), like `Math.random`. */
  readonly random: () => number;
}

/**
 * Exponential backoff with full jitter: each delay is uniform in [0, ceiling), and the ceiling
 * grows by `factor` per attempt up to `maxDelayMs`, so clients dropped together spread out.
 */
export class BackoffPolicy {
  private attempt = 0;

  constructor(private readonly options: BackoffOptions) {}

  nextDelayMs(): number {
    const { initialDelayMs, factor, maxDelayMs, random } = this.options;
    const ceiling = Math.min(maxDelayMs, initialDelayMs * factor ** this.attempt);
    // Stop counting at the cap so the exponent never overflows on a long outage.
    if (ceiling < maxDelayMs) this.attempt++;
    return Math.floor(random() * ceiling);
  }

  reset(): void {
    this.attempt = 0;
  }
}
