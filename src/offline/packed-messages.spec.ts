import { describe, expect, it } from 'vitest';
import type { SentRecord, StoredMessage } from './offline-message.store.js';
import { pairHash } from './fnv1a.js';
import { PackedMessages, PackedSentRecords } from './packed-messages.js';

const plain: StoredMessage = {
  id: 'm1',
  seq: 1_733_000_000_000 * 1024,
  from: 'alice',
  to: 'bob',
  body: 'hi',
  ts: 1_733_000_000_000,
  expiresAt: 1_733_172_800_000,
};
const tracked: StoredMessage = {
  ...plain,
  id: 'm2',
  seq: plain.seq + 1,
  to: 'carol',
  body: 'héllo 👋',
  clientId: 'c-9',
};

describe('PackedMessages', () => {
  it('gives back every message as it went in, in order, with a client id only where there was one', () => {
    const packed = new PackedMessages();
    packed.push(plain, plain.expiresAt);
    packed.push(tracked, tracked.expiresAt);
    expect(packed.length).toBe(2);
    expect([...packed]).toEqual([plain, tracked]);
    expect('clientId' in packed.at(0)).toBe(false);
    expect([packed.recipientAt(0), packed.recipientAt(1)]).toEqual(['bob', 'carol']);
  });

  it('packs any iterable of messages, and passes a packed one through as it is', () => {
    const packed = PackedMessages.of([plain, tracked]);
    expect([...packed]).toEqual([plain, tracked]);
    expect(PackedMessages.of(packed)).toBe(packed);
    expect(PackedMessages.of([]).length).toBe(0);
  });
});

describe('PackedSentRecords', () => {
  it('gives back every record as it went in, in order, either status', () => {
    const records: SentRecord[] = [
      { sender: 'alice', clientId: 'c1', status: 'queued', expiresAt: 1_733_172_800_000 },
      { sender: 'bob', clientId: 'c\n2', status: 'delivered', expiresAt: 1_733_172_800_001 },
    ];
    const packed = PackedSentRecords.of(records);
    expect(packed.length).toBe(2);
    expect([...packed]).toEqual(records);
    expect(PackedSentRecords.of(packed)).toBe(packed);
    expect([0, 1].map((i) => packed.hashAt(i))).toEqual(records.map((r) => pairHash(r.sender, r.clientId)));
  });

  it('keeps client ids of any script and length as they went in, past its first buffer', () => {
    const ids = ['c1', '消息-1', 'emoji 😀 id', 'line\nbreak', 'x'.repeat(64), ''];
    const records: SentRecord[] = [];
    for (let i = 0; i < 2_000; i++) {
      records.push({ sender: `u${i % 7}`, clientId: `${ids[i % ids.length]}${i}`, status: 'delivered', expiresAt: i });
    }
    const packed = PackedSentRecords.of(records);
    expect(packed.clientIdBytes.length).toBe(records.reduce((n, r) => n + Buffer.byteLength(r.clientId), 0));
    expect(packed.clientIdBytes.length).toBeGreaterThan(16 * 1024);
    expect([...packed]).toEqual(records);
    expect(packed.clientIdAt(1_999)).toBe(records[1_999]!.clientId);
  });

  it('finds a delivered record of a pair, and only a delivered one of that exact pair', () => {
    const packed = new PackedSentRecords();
    packed.push('alice', 'c1', 'queued', 1);
    packed.push('bob', 'c2', 'delivered', 2);
    const has = (sender: string, clientId: string) => packed.hasDelivered(sender, clientId, pairHash(sender, clientId));
    expect(has('bob', 'c2')).toBe(true);
    expect(has('alice', 'c1')).toBe(false);
    expect(has('bob', 'c1')).toBe(false);
    // A pair whose hash collides with bob's is told apart by its strings.
    expect(packed.hasDelivered('carol', 'c2', pairHash('bob', 'c2'))).toBe(false);
    // Records pushed after a question are found by the next one.
    packed.push('alice', 'c1', 'delivered', 3);
    expect(has('alice', 'c1')).toBe(true);
    packed.push('carol', 'c3', 'queued', 4);
    packed.push('carol', 'c4', 'delivered', 5);
    expect(has('carol', 'c3')).toBe(false);
    expect(has('carol', 'c4')).toBe(true);
  });
});
