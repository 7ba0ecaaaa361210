import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SentLogIndex } from './sent-log-index.js';

describe('SentLogIndex', () => {
  it('finds the seqs of every pair among many, newest first, and nothing for a pair never added', () => {
    const index = new SentLogIndex(1_000_000);
    const pairs = Array.from({ length: 20_000 }, (_, i) => [`user-${i % 97}`, randomUUID()] as const);
    for (const [i, [sender, clientId]] of pairs.entries()) index.add(sender, clientId, i + 1);
    // The same pair again (queued, then delivered): both rows, the newer first.
    index.add(pairs[7]![0], pairs[7]![1], 50_000);

    for (const [i, [sender, clientId]] of pairs.entries()) expect(index.candidates(sender, clientId)).toContain(i + 1);
    expect(index.candidates(pairs[7]![0], pairs[7]![1])).toEqual([50_000, 8]);
    // A 32-bit hash can be shared: a pair never added has a candidate at most rarely.
    const strangers = Array.from({ length: 2_000 }, () => index.candidates('user-1', randomUUID()).length);
    expect(strangers.filter((n) => n > 0).length).toBeLessThan(5);
  });

  it('keeps three generations at most, so memory stays bounded however many records come', () => {
    const index = new SentLogIndex(1_000);
    for (let seq = 1; seq <= 10_000; seq++) index.add('alice', `c${seq}`, seq);
    expect(index.size).toBe(3_000);
    expect(index.candidates('alice', 'c10000')).toEqual([10_000]);
    expect(index.candidates('alice', 'c7001')).toEqual([7_001]);
    expect(index.candidates('alice', 'c7000')).toEqual([]);
  });

  it('starts a generation when seqs jump further than an offset can hold', () => {
    const index = new SentLogIndex(1_000);
    index.add('alice', 'c1', 1);
    index.add('alice', 'c2', 2 ** 40);
    expect(index.candidates('alice', 'c1')).toEqual([1]);
    expect(index.candidates('alice', 'c2')).toEqual([2 ** 40]);
  });
});
