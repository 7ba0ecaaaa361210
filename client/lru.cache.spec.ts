import { describe, expect, it } from 'vitest';
import { LruCache } from './lru.cache.js';

describe('LruCache', () => {
  it('never holds more than its capacity, evicting the oldest entry', () => {
    const cache = new LruCache<string, number>(3);
    for (const [index, key] of ['a', 'b', 'c', 'd'].entries()) cache.set(key, index);
    expect(cache.size).toBe(3);
    expect(cache.has('a')).toBe(false);
    expect(cache.get('d')).toBe(3);
  });

  it('keeps an entry that was read recently', () => {
    const cache = new LruCache<string, number>(2);
    cache.set('a', 1);
    cache.set('b', 2);
    cache.get('a');
    cache.set('c', 3);
    expect(cache.has('a')).toBe(true);
    expect(cache.has('b')).toBe(false);
  });

  it('forgets a deleted entry', () => {
    const cache = new LruCache<string, number>(2);
    cache.set('a', 1);
    expect(cache.delete('a')).toBe(true);
    expect(cache.get('a')).toBeUndefined();
  });
});
