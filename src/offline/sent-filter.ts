import { pairHash } from './fnv1a.js';
import { MAX_SENT_RECORDS } from './offline-message.store.js';

/** Lines of the bitmap, each 512 bits (a cache line): 8 MiB in all. */
const LINES_LOG2 = 17;
const WORDS_PER_LINE = 16;
/** The line is the top bits of the pair hash. */
const LINE_SHIFT = 32 - LINES_LOG2;
/**
 * Generations kept, each in its own quarter (128 bits) of every line, so that a check reads one
 * cache line for all of them: with a bitmap per generation each one was a cache miss, three per
 * send. Each covers a third of a record lifetime and at most a third of the records a store keeps:
 * the three before the newest hold every pair a store can still find, since a store keeps no more
 * than its newest MAX_SENT_RECORDS.
 */
const GENERATIONS = 4;
const WORDS_PER_GENERATION = WORDS_PER_LINE / GENERATIONS;
/** A bit within a generation's 128 is the top bits of the hash times a probe's multiplier. */
const IN_GENERATION_SHIFT = 32 - 7;
/**
 * Bits set per pair. With three full generations (a third of a million pairs each) and a fourth
 * filling, a pair never added finds all its bits set in one of them about 0.04% of the time (the
 * spec's sustained-load case: 435 in a million; 814 with four bits); one bit per pair in one
 * bitmap of as many bits for those two million pairs would say yes to about 6%.
 */
const PROBES = 6;

/**
 * A superset of the (sender, client id) pairs with a sent record, so that a send with a new client
 * id (nearly every send) skips the store's point read. Six bits per pair in a bitmap (a Bloom
 * filter, blocked: the six in one cache line); pairs stay in it for as long as the store can hold
 * their record, by generations: a fresh one starts every `ttlMs / 3`, or sooner once the newest
 * took `perGeneration` pairs, and the oldest is cleared to become it. A generation per time alone
 * filled up under sustained load (a thousand messages a second set half of a bitmap's bits in six
 * hours) until every send asked the store. All bits set only means "ask the store"; any clear is
 * certain, as long as every pair is added before its record is written.
 */
export class SentFilter {
  private readonly words = new Uint32Array(WORDS_PER_LINE << LINES_LOG2);
  /** Which quarter of every line the newest generation sets. */
  private newest = 0;
  private rotateAt: number;
  /** Pairs added to the newest generation. */
  private added = 0;

  constructor(
    private readonly ttlMs: number,
    now = Date.now(),
    /** A third of the records a store keeps (MAX_SENT_RECORDS): the three older generations hold the newest of them. */
    private readonly perGeneration = Math.ceil(MAX_SENT_RECORDS / (GENERATIONS - 1)),
  ) {
    this.rotateAt = now + ttlMs / (GENERATIONS - 1);
  }

  add(sender: string, clientId: string, now: number): void {
    this.addHash(pairHash(sender, clientId), now);
  }

  /** `add`, for a pair whose `pairHash` is known. */
  addHash(hash: number, now: number): void {
    if (now >= this.rotateAt || this.added >= this.perGeneration) this.rotate(now);
    const base = (hash >>> LINE_SHIFT) * WORDS_PER_LINE + this.newest * WORDS_PER_GENERATION;
    for (let probe = 0; probe < PROBES; probe++) {
      const bit = Math.imul(hash, PROBE_MULTIPLIERS[probe]!) >>> IN_GENERATION_SHIFT;
      this.words[base + (bit >>> 5)]! |= 1 << (bit & 31);
    }
    this.added++;
  }

  mayHave(sender: string, clientId: string): boolean {
    const hash = pairHash(sender, clientId);
    const line = (hash >>> LINE_SHIFT) * WORDS_PER_LINE;
    for (let generation = 0; generation < GENERATIONS; generation++) {
      const base = line + generation * WORDS_PER_GENERATION;
      let probe = 0;
      for (; probe < PROBES; probe++) {
        const bit = Math.imul(hash, PROBE_MULTIPLIERS[probe]!) >>> IN_GENERATION_SHIFT;
        if ((this.words[base + (bit >>> 5)]! & (1 << (bit & 31))) === 0) break;
      }
      if (probe === PROBES) return true;
    }
    return false;
  }

  /** The oldest generation's quarter of every line is cleared, and takes the pairs from now on. */
  private rotate(now: number): void {
    this.newest = (this.newest + 1) % GENERATIONS;
    const { words } = this;
    for (let at = this.newest * WORDS_PER_GENERATION; at < words.length; at += WORDS_PER_LINE) {
      for (let word = at; word < at + WORDS_PER_GENERATION; word++) words[word] = 0;
    }
    this.rotateAt = now + this.ttlMs / (GENERATIONS - 1);
    this.added = 0;
  }
}

/** Odd multipliers spreading one 32-bit pair hash over the bits of its generation's quarter, one per probe. */
const PROBE_MULTIPLIERS = [0x9e3779b1, 0x85ebca77, 0xc2b2ae3d, 0x27d4eb2f, 0x165667b1, 0xd3a2646d];
