import { TokenBucket } from './token-bucket.js';

/** Acks that settle nothing get this many times the frame rate: duplicates after a resend are normal. */
const ACK_RATE_FACTOR = 4;

/**
 * What the gateway keeps about one client session, apart from its socket and its messages: the
 * rate limits it is held to, the plain-text protocol's last recipient, and its token's expiry.
 * The gateway reads and writes it; the connection only carries it.
 */
export class ClientSession {
  /** Every frame a client sends costs a token: messages, pings, pongs, malformed frames. */
  readonly rate: TokenBucket;
  /** Acks that settle nothing; acks that settle a message are free (they only free what we sent). */
  readonly ackRate: TokenBucket;
  /** The plain-text protocol's "last recipient" rule: an empty `to` means the previous one. */
  lastRecipient: string | undefined;
  /** Token expiry timer (AUTH_MODE=jwt). */
  expiry: { stop(): void } | undefined;

  constructor(ratePerSecond: number, rateBurst: number) {
    this.rate = new TokenBucket(ratePerSecond, rateBurst);
    this.ackRate = new TokenBucket(ratePerSecond * ACK_RATE_FACTOR, rateBurst * ACK_RATE_FACTOR);
  }

  /** The session is over: its timers stop. */
  dispose(): void {
    this.expiry?.stop();
    this.expiry = undefined;
  }
}
