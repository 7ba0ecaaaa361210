import { describe, expect, it } from 'vitest';
import { SentFilter } from './sent-filter.js';

const TTL = 48 * 3_600_000;

describe('SentFilter', () => {
  it('never forgets a pair before its record can have expired', () => {
    const filter = new SentFilter(TTL, 0);
    filter.add('alice', 'c1', 0);
    // Records added later keep the filter rotating every half lifetime.
    for (let t = 0; t < TTL; t += TTL / 10) {
      filter.add('bob', `k${t}`, t);
      expect(filter.mayHave('alice', 'c1')).toBe(true);
    }
    filter.add('bob', 'last', TTL);
    expect(filter.mayHave('alice', 'c1')).toBe(true);
  });

  it('lets go of a pair once its record has expired and two generations went by', () => {
    const filter = new SentFilter(TTL, 0);
    filter.add('alice', 'c1', 0);
    for (let t = TTL / 2; t <= 2 * TTL; t += TTL / 2) filter.add('bob', `k${t}`, t);
    expect(filter.mayHave('alice', 'c1')).toBe(false);
  });

  it('says no for nearly every pair never added, and yes for every pair added', () => {
    const filter = new SentFilter(TTL, 0);
    for (let i = 0; i < 100_000; i++) filter.add(`user${i % 100}`, `c-${i}`, 1);
    for (let i = 0; i < 100_000; i++) expect(filter.mayHave(`user${i % 100}`, `c-${i}`)).toBe(true);
    let falsePositives = 0;
    for (let i = 0; i < 100_000; i++) if (filter.mayHave(`user${i % 100}`, `d-${i}`)) falsePositives++;
    // Four bits per pair in a 2^25-bit bitmap: about 3.5 unseen pairs in 100,000 collide, two of
    // them because their 32-bit hash is one of the 100,000 added.
    expect(falsePositives).toBeLessThan(20);
  });

  it('stays selective under sustained load: a fresh generation per half a million pairs, whatever the time', () => {
    const filter = new SentFilter(TTL, 0);
    // Four times the pairs a generation takes, all within one second of a 48-hour lifetime.
    for (let i = 0; i < 2_000_000; i++) filter.add(`user${i % 1_000}`, `c-${i}`, i / 2_000_000);
    // The newest million (what a store keeps at most) are all still there.
    for (let i = 1_000_000; i < 2_000_000; i += 997) expect(filter.mayHave(`user${i % 1_000}`, `c-${i}`)).toBe(true);
    let falsePositives = 0;
    for (let i = 0; i < 100_000; i++) if (filter.mayHave(`user${i % 1_000}`, `d-${i}`)) falsePositives++;
    // One bitmap for all two million pairs, one bit each, would say yes to about 6% of them.
    expect(falsePositives).toBeLessThan(100);
  });

  it('lets go of pairs older than three generations of perGeneration pairs', () => {
    const filter = new SentFilter(TTL, 0, 1_000);
    filter.add('alice', 'c1', 0);
    for (let i = 0; i < 2_999; i++) filter.add('bob', `k${i}`, 0);
    // Three full generations, alice's the oldest: kept.
    expect(filter.mayHave('alice', 'c1')).toBe(true);
    filter.add('bob', 'one more', 0);
    expect(filter.mayHave('alice', 'c1')).toBe(false);
    expect(filter.mayHave('bob', 'k1000')).toBe(true);
  });

  it('keeps the separator between sender and client id: ("a", "bc") is not ("ab", "c")', () => {
    const filter = new SentFilter(TTL, 0);
    filter.add('a', 'bc', 0);
    expect(filter.mayHave('ab', 'c')).toBe(false);
  });
});
