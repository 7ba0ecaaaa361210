import { describe, expect, it } from 'vitest';
import { fnv1a, mixed, pairHash } from './fnv1a.js';

describe('fnv1a', () => {
  it('gives the published 32-bit FNV-1a values, and chained strings hash as their concatenation', () => {
    expect(fnv1a('') >>> 0).toBe(0x811c9dc5);
    expect(fnv1a('a') >>> 0).toBe(0xe40c292c);
    expect(fnv1a('foobar') >>> 0).toBe(0xbf9cf968);
    expect(fnv1a('bar', fnv1a('foo'))).toBe(fnv1a('foobar'));
  });

  it("hashes a pair as its key, sender and client id joined by a newline (the memory store's sent ring relies on it)", () => {
    for (const [sender, clientId] of [
      ['alice', 'c1'],
      ['用户', '消息\n-😀'],
      ['', ''],
    ] as const) {
      expect(pairHash(sender, clientId)).toBe(mixed(fnv1a(`${sender}\n${clientId}`)));
    }
  });
});
