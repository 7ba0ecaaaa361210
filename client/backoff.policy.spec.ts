import { describe, expect, it } from 'vitest';
import { BackoffPolicy } from './backoff.policy.js';

const options = { initialDelayMs: 250, factor: 2, maxDelayMs: 10_000 };

describe('BackoffPolicy', () => {
  it('doubles the ceiling per attempt and stops at the cap', () => {
    // A draw of 0.5 makes each delay half its ceiling.
    const backoff = new BackoffPolicy({ ...options, random: () => 0.5 });
    const delays = Array.from({ length: 9 }, () => backoff.nextDelayMs());
    expect(delays).toEqual([125, 250, 500, 1_000, 2_000, 4_000, 5_000, 5_000, 5_000]);
  });

  it('picks each delay uniformly below the ceiling (full jitter)', () => {
    const draws = [0, 0.5, 0.25];
    const backoff = new BackoffPolicy({ ...options, random: () => draws.shift() as number });
    expect([backoff.nextDelayMs(), backoff.nextDelayMs(), backoff.nextDelayMs()]).toEqual([0, 250, 250]);
  });

  it('starts over from the initial ceiling after reset', () => {
    const backoff = new BackoffPolicy({ ...options, random: () => 0.5 });
    backoff.nextDelayMs();
    backoff.nextDelayMs();
    backoff.reset();
    expect(backoff.nextDelayMs()).toBe(125);
  });

  it('keeps returning the cap on a very long outage', () => {
    const backoff = new BackoffPolicy({ ...options, random: () => 0.5 });
    for (let attempt = 0; attempt < 5_000; attempt++) backoff.nextDelayMs();
    expect(backoff.nextDelayMs()).toBe(5_000);
  });
});
