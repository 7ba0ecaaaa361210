import { describe, expect, it } from 'vitest';
import { TokenBucket } from './token-bucket.js';

describe('TokenBucket', () => {
  it('allows a burst, then the steady rate', () => {
    const bucket = new TokenBucket(10, 5, 0);
    expect(Array.from({ length: 6 }, () => bucket.take(0))).toEqual([true, true, true, true, true, false]);
    expect(bucket.take(50)).toBe(false); // half a token
    expect(bucket.take(100)).toBe(true);
    expect(bucket.take(100)).toBe(false);
  });

  it('never stores more than the burst', () => {
    const bucket = new TokenBucket(10, 2, 0);
    const allowed = Array.from({ length: 5 }, () => bucket.take(60_000)).filter(Boolean).length;
    expect(allowed).toBe(2);
  });

  it('counts a client that keeps sending faster than the rate as limited, even between refills', () => {
    const bucket = new TokenBucket(5, 1, 0);
    for (let t = 0; t <= 3_000; t += 50) bucket.take(t); // 20 frames/s against 5/s
    expect(bucket.limitedSince).toBe(50);
  });

  it('forgets the limit after a second without refusals', () => {
    const bucket = new TokenBucket(1, 1, 0);
    bucket.take(0);
    bucket.take(10);
    expect(bucket.limitedSince).toBe(10);
    bucket.take(1_500);
    expect(bucket.limitedSince).toBe(0);
  });
});
