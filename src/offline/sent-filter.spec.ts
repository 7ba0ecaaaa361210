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
    // 100,000 bits set of 2^25: about 0.3% of unseen pairs collide.
    expect(falsePositives).toBeLessThan(1_000);
  });

  it('keeps the separator between sender and client id: ("a", "bc") is not ("ab", "c")', () => {
    const filter = new SentFilter(TTL, 0);
    filter.add('a', 'bc', 0);
    expect(filter.mayHave('ab', 'c')).toBe(false);
  });
});
