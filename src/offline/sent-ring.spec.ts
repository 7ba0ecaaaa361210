import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SentRing } from './sent-ring.js';

type Op =
  | { kind: 'set'; key: string; value: number }
  | { kind: 'drop'; below: number }
  | { kind: 'bound'; max: number };

/**
 * What the ring must hold, worked out from the writes alone: of the newest `capacity` writes
 * still in the ring, each key's latest, in the order written.
 */
function model(capacity: number, ops: readonly Op[]): Array<[string, number]> {
  let writes: Array<[string, number]> = [];
  const liveOf = () => {
    const last = new Map<string, number>();
    for (const [i, [key]] of writes.entries()) last.set(key, i);
    return writes.filter(([key], i) => last.get(key) === i);
  };
  for (const op of ops) {
    if (op.kind === 'set') {
      writes.push([op.key, op.value]);
      if (writes.length > capacity) writes = writes.slice(writes.length - capacity);
    } else if (op.kind === 'drop') {
      // From the oldest write on, while each is either superseded or below the line.
      const live = new Set(liveOf().map(([key, value]) => `${key}=${value}`));
      let i = 0;
      while (i < writes.length && (!live.has(`${writes[i]![0]}=${writes[i]![1]}`) || writes[i]![1] < op.below)) i++;
      writes = writes.slice(i);
    } else {
      while (liveOf().length > op.max) writes.shift();
    }
  }
  return liveOf();
}

const keys = fc.constantFrom('alice\nc1', 'alice\nc2', 'bob\nc1', 'bob\nc\n2', 'carol\nc1', 'dave\nc1', 'eve\nc1');
const ops = fc.array(
  fc.oneof(
    {
      weight: 8,
      arbitrary: fc.record({ kind: fc.constant('set' as const), key: keys, value: fc.integer({ min: 0, max: 100 }) }),
    },
    {
      weight: 1,
      arbitrary: fc.record({ kind: fc.constant('drop' as const), below: fc.integer({ min: 0, max: 100 }) }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('bound' as const), max: fc.integer({ min: 0, max: 8 }) }) },
  ),
  { maxLength: 60 },
);

describe('SentRing', () => {
  it('holds, for any sequence of writes, drops and bounds, the latest record of each key among the newest writes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), ops, (capacity, sequence) => {
        const ring = new SentRing(capacity);
        for (const op of sequence) {
          if (op.kind === 'set') ring.set(op.key, op.value);
          else if (op.kind === 'drop') ring.dropOldestWhile((value) => value < op.below);
          else ring.bound(op.max);
        }
        const expected = model(capacity, sequence);
        expect([...ring.entries()]).toEqual(expected);
        expect(ring.size).toBe(expected.length);
        for (const [key, value] of expected) expect(ring.get(key)).toBe(value);
        for (const key of ['alice\nc1', 'bob\nc\n2', 'eve\nc1', 'nobody\nc1']) {
          expect(ring.get(key)).toBe(expected.find(([k]) => k === key)?.[1]);
        }
      }),
    );
  });

  it('grows past its first arrays to its capacity, keeps every record it may, and then holds the newest', () => {
    const ring = new SentRing(5_000);
    for (let i = 0; i < 12_000; i++) ring.set(`user-${i % 97}\nc${i}`, i);
    expect(ring.size).toBe(5_000);
    expect(ring.get('user-0\nc0')).toBeUndefined();
    expect(ring.get(`user-${6_999 % 97}\nc6999`)).toBeUndefined();
    for (let i = 7_000; i < 12_000; i++) expect(ring.get(`user-${i % 97}\nc${i}`)).toBe(i);
    expect([...ring.entries()].map(([, value]) => value)).toEqual(Array.from({ length: 5_000 }, (_, i) => 7_000 + i));
    ring.clear();
    expect(ring.size).toBe(0);
    expect(ring.get('user-1\nc11999')).toBeUndefined();
  });
});
