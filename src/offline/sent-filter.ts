import { pairHash } from './fnv1a.js';
import { MAX_SENT_RECORDS } from './offline-message.store.js';

/** Bits of one generation's bitmap: 4 MiB. */
const FILTER_BITS_LOG2 = 25;
/**
 * A pair's bits all fall in one block of 512 bits, a cache line: in a 4 MiB bitmap each block
 * touched is a cache miss, and a miss per bit cost more than the rest of the check.
 */
const BLOCK_BITS_LOG2 = 9;
/** The block is the top bits of the pair hash. */
const BLOCK_SHIFT = 32 - (FILTER_BITS_LOG2 - BLOCK_BITS_LOG2);
/** A bit within the block is the top bits of the hash times a probe's multiplier. */
const IN_BLOCK_SHIFT = 32 - BLOCK_BITS_LOG2;
/**
 * Generations kept, each covering half a record lifetime and at most half the records a store
 * keeps: a record outlives at most two rotations, and a store holds no more than the newest
 * MAX_SENT_RECORDS.
 */
const GENERATIONS = 3;
/**
 * Bits set per pair. With two full generations (half a million pairs each) and a third filling, a
 * pair never added finds all four of its bits set in one of them about 0.04% of the time (the
 * spec's sustained-load case: 412 in a million); one bit per pair in one bitmap for those two
 * million pairs would say yes to about 6%.
 */
const PROBES = 4;

/**
 * A superset of the (sender, client id) pairs with a sent record, so that a send with a new client
 * id (nearly every send) skips the store's point read. Four bits per pair in a bitmap (a Bloom
 * filter, blocked: the four in one cache line); pairs stay in it for as long as the store can hold
 * their record, by generations: a fresh bitmap starts every `ttlMs / 2`, or sooner once the newest
 * took `perGeneration` pairs, and the oldest goes. A generation per time alone filled up under
 * sustained load (a thousand messages a second set half of a bitmap's bits in six hours) until
 * every send asked the store. All bits set only means "ask the store"; any clear is certain, as
 * long as every pair is added before its record is written.
 */
export class SentFilter {
  private readonly generations: Uint32Array[] = [new Uint32Array(1 << (FILTER_BITS_LOG2 - 5))];
  private rotateAt: number;
  /** Pairs added to the newest generation. */
  private added = 0;

  constructor(
    private readonly ttlMs: number,
    now = Date.now(),
    /** Half the records a store keeps (MAX_SENT_RECORDS): three generations always hold the newest of them. */
    private readonly perGeneration = MAX_SENT_RECORDS / 2,
  ) {
    this.rotateAt = now + ttlMs / 2;
  }

  add(sender: string, clientId: string, now: number): void {
    this.addHash(pairHash(sender, clientId), now);
  }

  /** `add`, for a pair whose `pairHash` is known. */
  addHash(hash: number, now: number): void {
    if (now >= this.rotateAt || this.added >= this.perGeneration) this.rotate(now);
    const bits = this.generations[0]!;
    for (let probe = 0; probe < PROBES; probe++) {
      const bit = probeBit(hash, probe);
      bits[bit >>> 5]! |= 1 << (bit & 31);
    }
    this.added++;
  }

  mayHave(sender: string, clientId: string): boolean {
    const hash = pairHash(sender, clientId);
    for (const bits of this.generations) {
      let probe = 0;
      for (; probe < PROBES; probe++) {
        const bit = probeBit(hash, probe);
        if ((bits[bit >>> 5]! & (1 << (bit & 31))) === 0) break;
      }
      if (probe === PROBES) return true;
    }
    return false;
  }

  private rotate(now: number): void {
    this.generations.unshift(new Uint32Array(1 << (FILTER_BITS_LOG2 - 5)));
    if (this.generations.length > GENERATIONS) this.generations.pop();
    this.rotateAt = now + this.ttlMs / 2;
    this.added = 0;
  }
}

/** Odd multipliers spreading one 32-bit pair hash over the bits of its block, one per probe. */
const PROBE_MULTIPLIERS = [0x9e3779b1, 0x85ebca77, 0xc2b2ae3d, 0x27d4eb2f];

function probeBit(hash: number, probe: number): number {
  const block = hash >>> BLOCK_SHIFT;
  return (block << BLOCK_BITS_LOG2) | (Math.imul(hash, PROBE_MULTIPLIERS[probe]!) >>> IN_BLOCK_SHIFT);
}
