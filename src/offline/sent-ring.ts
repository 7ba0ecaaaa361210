import { fnv1a, mixed } from './fnv1a.js';

/** Slots the ring starts with; it doubles up to its capacity as records come. */
const INITIAL_SLOTS = 1024;

/** The index's hash of `key`. */
const hashOf = (key: string): number => mixed(fnv1a(key));

/**
 * The memory driver's sent records: the newest `capacity` of them, in a ring in the order they
 * were written (which is expiry order: every record lives for the same TTL), with an
 * open-addressing index over their keys. A record costs its key string and 16 bytes of typed
 * arrays, and once the ring is full nothing is reallocated as records come and go. A `Map` of a
 * million such records took ~250 MB of heap, and its rehashes under constant churn kept the heap
 * growing.
 */
export class SentRing {
  private slots = 0;
  /** Key per ring slot; `undefined` once its record was rewritten later in the ring or evicted. */
  private keys: Array<string | undefined> = [];
  private values = new Float64Array(0);
  private hashes = new Uint32Array(0);
  /** Per bucket, ring slot + 1 of the record whose key is there; 0 for an empty bucket. */
  private index = new Int32Array(0);
  /** Ring slot of the oldest record, and how many slots are in use from there (live or not). */
  private tail = 0;
  private used = 0;
  private live = 0;

  constructor(private readonly capacity: number) {
    this.resize(Math.min(INITIAL_SLOTS, capacity));
  }

  /** Records held (rewritten and evicted ones not counted). */
  get size(): number {
    return this.live;
  }

  get(key: string): number | undefined {
    const bucket = this.find(key, hashOf(key));
    return bucket < 0 ? undefined : this.values[this.index[bucket]! - 1];
  }

  /** Writes `key` as the newest record; an older record of the same key goes, and past capacity the oldest. */
  set(key: string, value: number): void {
    const hash = hashOf(key);
    const existing = this.find(key, hash);
    if (existing >= 0) this.removeAt(existing);
    if (this.used === this.slots) {
      if (this.slots < this.capacity) this.resize(Math.min(this.slots * 2, this.capacity));
      else this.evictOldest();
    }
    this.place(key, value, hash);
  }

  /** Writes a record whose key is not in the index into the next ring slot, and indexes it. */
  private place(key: string, value: number, hash: number): void {
    const slot = (this.tail + this.used++) % this.slots;
    this.keys[slot] = key;
    this.values[slot] = value;
    this.hashes[slot] = hash;
    this.live++;
    const mask = this.index.length - 1;
    let bucket = hash & mask;
    while (this.index[bucket] !== 0) bucket = (bucket + 1) & mask;
    this.index[bucket] = slot + 1;
  }

  /** Drops the oldest records while `expired` says so of their value. */
  dropOldestWhile(expired: (value: number) => boolean): void {
    while (this.used > 0) {
      if (this.keys[this.tail] !== undefined && !expired(this.values[this.tail]!)) return;
      this.evictOldest();
    }
  }

  /** Drops the oldest records until at most `max` are left. */
  bound(max: number): void {
    while (this.live > max) this.evictOldest();
  }

  /** Every record, oldest first. */
  *entries(): IterableIterator<[key: string, value: number]> {
    for (let i = 0; i < this.used; i++) {
      const slot = (this.tail + i) % this.slots;
      const key = this.keys[slot];
      if (key !== undefined) yield [key, this.values[slot]!];
    }
  }

  clear(): void {
    this.resize(Math.min(INITIAL_SLOTS, this.capacity), false);
  }

  /** Bucket of `key`, or -1. */
  private find(key: string, hash: number): number {
    const mask = this.index.length - 1;
    for (let bucket = hash & mask; ; bucket = (bucket + 1) & mask) {
      const entry = this.index[bucket]!;
      if (entry === 0) return -1;
      if (this.hashes[entry - 1] === hash && this.keys[entry - 1] === key) return bucket;
    }
  }

  private evictOldest(): void {
    if (this.keys[this.tail] !== undefined) {
      this.removeAt(this.find(this.keys[this.tail]!, this.hashes[this.tail]!));
    }
    this.tail = (this.tail + 1) % this.slots;
    this.used--;
  }

  /**
   * Empties `bucket` and its ring slot. Linear probing without tombstones: the entries after it in
   * the probe run move back wherever the gap lies between their home bucket and where they are.
   */
  private removeAt(bucket: number): void {
    const slot = this.index[bucket]! - 1;
    this.keys[slot] = undefined;
    this.live--;
    const mask = this.index.length - 1;
    let gap = bucket;
    for (let next = (gap + 1) & mask; this.index[next] !== 0; next = (next + 1) & mask) {
      const home = this.hashes[this.index[next]! - 1]! & mask;
      // The entry at `next` may fill the gap when the gap lies on its probe path from `home`.
      if (((next - home) & mask) >= ((next - gap) & mask)) {
        this.index[gap] = this.index[next]!;
        gap = next;
      }
    }
    this.index[gap] = 0;
  }

  /**
   * New arrays of `slots` (index twice that, a power of two); the records kept move over, oldest
   * first, with the hashes they have: a growth from 1,024 slots to a million rehashed every key
   * of every step (a JSON run's records, as they came, spent 3.7% of its event loop here).
   */
  private resize(slots: number, keep = true): void {
    const { keys, values, hashes, tail, used } = this;
    const oldSlots = this.slots;
    this.slots = slots;
    this.keys = new Array<string | undefined>(slots).fill(undefined);
    this.values = new Float64Array(slots);
    this.hashes = new Uint32Array(slots);
    let buckets = 1;
    while (buckets < slots * 2) buckets *= 2;
    this.index = new Int32Array(buckets);
    this.tail = 0;
    this.used = 0;
    this.live = 0;
    if (!keep) return;
    for (let i = 0; i < used; i++) {
      const from = (tail + i) % oldSlots;
      const key = keys[from];
      if (key !== undefined) this.place(key, values[from]!, hashes[from]!);
    }
  }
}
