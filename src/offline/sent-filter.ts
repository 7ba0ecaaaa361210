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
    if (now >= this.rotateAt) this.rotate(now);
    const bit = pairHash(sender, clientId);
    this.generations[0]![bit >>> 5]! |= 1 << (bit & 31);
  }

  mayHave(sender: string, clientId: string): boolean {
    const bit = pairHash(sender, clientId);
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

/** FNV-1a over both strings with a separator: cheap, and spread well enough for a bitmap index. */
function pairHash(sender: string, clientId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < sender.length; i++) h = Math.imul(h ^ sender.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ 10, 0x01000193);
  for (let i = 0; i < clientId.length; i++) h = Math.imul(h ^ clientId.charCodeAt(i), 0x01000193);
  // A final avalanche: FNV's low bits alone mix poorly for keys that differ in their last character.
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  return h & FILTER_MASK;
}
