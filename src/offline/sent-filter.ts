import { pairHash } from './fnv1a.js';

/** Bits of one generation's bitmap: 4 MiB, about 3% false positives with a million records. */
const FILTER_BITS_LOG2 = 25;
const FILTER_MASK = (1 << FILTER_BITS_LOG2) - 1;
/** Generations kept, each covering half a record lifetime: a record outlives at most two rotations. */
const GENERATIONS = 3;

/**
 * A superset of the (sender, client id) pairs with a sent record, so that a send with a new client
 * id (nearly every send) skips the store's point read. One bit per pair in a bitmap; pairs stay
 * in it for at least their record's lifetime, by generations: every `ttlMs / 2` a fresh bitmap
 * starts, and the oldest goes once everything it holds has expired. A set bit only means "ask
 * the store"; a clear one is certain, as long as every pair is added before its record is written.
 */
export class SentFilter {
  private readonly generations: Uint32Array[] = [new Uint32Array(1 << (FILTER_BITS_LOG2 - 5))];
  private rotateAt: number;

  constructor(
    private readonly ttlMs: number,
    now = Date.now(),
  ) {
    this.rotateAt = now + ttlMs / 2;
  }

  add(sender: string, clientId: string, now: number): void {
    this.addHash(pairHash(sender, clientId), now);
  }

  /** `add`, for a pair whose `pairHash` is known. */
  addHash(hash: number, now: number): void {
    if (now >= this.rotateAt) this.rotate(now);
    const bit = hash & FILTER_MASK;
    this.generations[0]![bit >>> 5]! |= 1 << (bit & 31);
  }

  mayHave(sender: string, clientId: string): boolean {
    const bit = pairHash(sender, clientId) & FILTER_MASK;
    const word = bit >>> 5;
    const mask = 1 << (bit & 31);
    for (const generation of this.generations) if ((generation[word]! & mask) !== 0) return true;
    return false;
  }

  private rotate(now: number): void {
    this.generations.unshift(new Uint32Array(1 << (FILTER_BITS_LOG2 - 5)));
    if (this.generations.length > GENERATIONS) this.generations.pop();
    this.rotateAt = now + this.ttlMs / 2;
  }
}
