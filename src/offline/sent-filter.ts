import { pairHash } from './fnv1a.js';
import { MAX_SENT_RECORDS } from './offline-message.store.js';

/** Bits of one generation's bitmap: 4 MiB. */
const FILTER_BITS_LOG2 = 25;
/** Where a bit index starts in a 32-bit product: its top FILTER_BITS_LOG2 bits. */
const PROBE_SHIFT = 32 - FILTER_BITS_LOG2;
const FILTER_MASK = (1 << FILTER_BITS_LOG2) - 1;
/**
 * Generations kept, each covering half a record lifetime and at most half the records a store
 * keeps: a record outlives at most two rotations, and a store holds no more than the newest
 * MAX_SENT_RECORDS.
 */
const GENERATIONS = 3;
/**
 * Bits set per pair. A full generation (half a million pairs) sets about 4.4% of its bits; a pair
 * never added then finds all three set in one of the three generations about 0.03% of the time
 * (one bit: 4.5%).
 */
const PROBES = 3;

/**
 * A superset of the (sender, client id) pairs with a sent record, so that a send with a new client
 * id (nearly every send) skips the store's point read. Three bits per pair in a bitmap (a Bloom
 * filter); pairs stay in it for as long as the store can hold their record, by generations: a
 * fresh bitmap starts every `ttlMs / 2`, or sooner once the newest took `perGeneration` pairs, and
 * the oldest goes. A generation per time alone filled up under sustained load (a thousand
 * messages a second set half of a bitmap's bits in six hours) until every send asked the store.
 * All bits set only means "ask the store"; any clear is certain, as long as every pair is added
 * before its record is written.
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

/** Odd multipliers spreading one 32-bit pair hash into a bit index per probe (the first: its low bits). */
const PROBE_MULTIPLIERS = [0, 0x9e3779b1, 0x85ebca77];

function probeBit(hash: number, probe: number): number {
  return probe === 0 ? hash & FILTER_MASK : Math.imul(hash, PROBE_MULTIPLIERS[probe]!) >>> PROBE_SHIFT;
}
