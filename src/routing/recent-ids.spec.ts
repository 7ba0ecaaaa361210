import { describe, expect, it } from 'vitest';
import { RecentIds } from './recent-ids.js';

describe('RecentIds', () => {
  it('remembers an id for its time, then forgets it and frees its room', () => {
    const recent = new RecentIds(1_000);
    recent.add('a', 0);
    recent.add('b', 500);
    expect(recent.has('a', 999)).toBe(true);
    expect(recent.has('a', 1_000)).toBe(false);
    expect(recent.has('b', 1_400)).toBe(true);
    recent.add('c', 1_600);
    expect(recent.size).toBe(1);
    expect(recent.has('c', 1_600)).toBe(true);
  });

  it('keeps an id seen again for its new time', () => {
    const recent = new RecentIds(1_000);
    recent.add('a', 0);
    recent.add('b', 100);
    recent.add('a', 900);
    expect(recent.has('a', 1_500)).toBe(true);
    expect(recent.has('b', 1_500)).toBe(false);
  });
});
