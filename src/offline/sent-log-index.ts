import { pairHash } from './fnv1a.js';

/** Slots a generation starts with; it doubles whenever it is half full. */
const INITIAL_SLOTS = 1 << 10;
/** Generations kept: the newest takes every entry, the older ones only answer lookups. */
const GENERATIONS = 3;
/** Largest seq distance one generation can hold: offsets are stored as unsigned 32-bit numbers. */
const MAX_OFFSET = 0xffff_fff0;

/** One open-addressing table of (pair hash, seq - base + 1); an offset of 0 marks an empty slot. */
class Generation {
  hashes = new Uint32Array(INITIAL_SLOTS);
  offsets = new Uint32Array(INITIAL_SLOTS);
  count = 0;

  constructor(readonly base: number) {}

  add(hash: number, seq: number): void {
    if (this.count * 2 >= this.hashes.length) this.grow();
    this.place(hash, seq - this.base + 1);
    this.count++;
  }

  /** Every seq stored under `hash`, in no particular order. */
  collect(hash: number, into: number[]): void {
    const mask = this.hashes.length - 1;
    for (let slot = hash & mask; this.offsets[slot] !== 0; slot = (slot + 1) & mask) {
      if (this.hashes[slot] === hash) into.push(this.base + this.offsets[slot]! - 1);
    }
  }

  private place(hash: number, offset: number): void {
    const mask = this.hashes.length - 1;
    let slot = hash & mask;
    while (this.offsets[slot] !== 0) slot = (slot + 1) & mask;
    this.hashes[slot] = hash;
    this.offsets[slot] = offset;
  }

  private grow(): void {
    const { hashes, offsets } = this;
    this.hashes = new Uint32Array(hashes.length * 2);
    this.offsets = new Uint32Array(hashes.length * 2);
    for (let i = 0; i < hashes.length; i++) if (offsets[i] !== 0) this.place(hashes[i]!, offsets[i]!);
  }
}

/**
 * Where each sent record sits in the append-only `sent_log` table: (sender, client id) to the
 * seqs of its rows, so that a lookup is a point read by seq. The log is appended in seq order,
 * one b-tree page at a time; a table keyed by (sender, client id) took a random page per record,
 * which, rewritten whole in the WAL, cost more than the rest of a JSON message (random client
 * ids, as the SDK makes them). About 8 bytes per record.
 *
 * A hash can be shared by several pairs: each candidate row is read and compared. Entries are
 * never removed one by one; a row purged since is simply not found. Memory is bounded by
 * generations: once the newest holds `perGeneration` entries a fresh one starts, and beyond
 * three the oldest goes, by then older than the log keeps (`MAX_SENT_RECORDS`).
 */
export class SentLogIndex {
  private readonly generations: Generation[] = [];

  constructor(private readonly perGeneration: number) {}

  /** Row `seq` holds (sender, clientId); seqs are added in increasing order. */
  add(sender: string, clientId: string, seq: number): void {
    this.addHash(pairHash(sender, clientId), seq);
  }

  /** `add`, for a pair whose `pairHash` is known. */
  addHash(hash: number, seq: number): void {
    let newest = this.generations[0];
    if (newest === undefined || newest.count >= this.perGeneration || seq - newest.base >= MAX_OFFSET) {
      newest = new Generation(seq);
      this.generations.unshift(newest);
      if (this.generations.length > GENERATIONS) this.generations.pop();
    }
    newest.add(hash, seq);
  }

  /** Seqs of the rows that may hold (sender, clientId), newest first. */
  candidates(sender: string, clientId: string): number[] {
    const hash = pairHash(sender, clientId);
    const seqs: number[] = [];
    for (const generation of this.generations) generation.collect(hash, seqs);
    return seqs.length > 1 ? seqs.sort((a, b) => b - a) : seqs;
  }

  /** Entries held, stale ones included. */
  get size(): number {
    return this.generations.reduce((sum, g) => sum + g.count, 0);
  }
}
