import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { OfflineMessageStore, StoredMessage } from './offline-message.store.js';

const NOW = 1_800_000_000_000;

function message(seq: number, to = 'bob', overrides: Partial<StoredMessage> = {}): StoredMessage {
  return { id: `m${seq}`, seq, from: 'alice', to, body: `body ${seq}`, ts: NOW, expiresAt: NOW + 60_000, ...overrides };
}

/**
 * The behaviour every `OfflineMessageStore` driver must have. `reopen` (for durable drivers)
 * closes and opens the same storage again.
 */
export function describeOfflineStoreContract(
  name: string,
  create: () => Promise<{
    store: OfflineMessageStore;
    reopen?: () => Promise<OfflineMessageStore>;
    cleanup(): Promise<void>;
  }>,
): void {
  describe(`OfflineMessageStore contract: ${name}`, () => {
    let store: OfflineMessageStore;
    let reopen: (() => Promise<OfflineMessageStore>) | undefined;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      ({ store, reopen, cleanup } = await create());
      await store.open();
    });
    afterEach(async () => {
      await store.close();
      await cleanup();
    });

    it('returns a recipient’s messages oldest first, and only theirs', async () => {
      await store.write({
        append: [message(3), message(1), message(10, 'carol', { id: 'c10' }), message(2)],
        remove: [],
        sent: [],
      });
      expect((await store.peek('bob', NOW, 10)).map((m) => m.id)).toEqual(['m1', 'm2', 'm3']);
      expect((await store.peek('carol', NOW, 10)).map((m) => m.to)).toEqual(['carol']);
      expect(await store.peek('nobody', NOW, 10)).toEqual([]);
    });

    it('keeps every field', async () => {
      const m = message(7, 'bob', { body: '消息 | 🙂', clientId: 'c-1' });
      await store.write({ append: [m, message(8)], remove: [], sent: [] });
      const [first, second] = await store.peek('bob', NOW, 10);
      expect(first).toEqual(m);
      expect(second!.clientId).toBeUndefined();
    });

    it('pages with limit and afterSeq', async () => {
      await store.write({ append: [1, 2, 3, 4, 5].map((s) => message(s)), remove: [], sent: [] });
      expect((await store.peek('bob', NOW, 2)).map((m) => m.seq)).toEqual([1, 2]);
      expect((await store.peek('bob', NOW, 2, 2)).map((m) => m.seq)).toEqual([3, 4]);
      expect((await store.peek('bob', NOW, 10, 5)).map((m) => m.seq)).toEqual([]);
    });

    it('removes by seq, and ignores unknown ones', async () => {
      await store.write({ append: [message(1), message(2), message(3)], remove: [], sent: [] });
      await store.write({ append: [], remove: [2, 99], sent: [] });
      expect((await store.peek('bob', NOW, 10)).map((m) => m.id)).toEqual(['m1', 'm3']);
      expect(await store.count('bob', NOW)).toBe(2);
    });

    it('puts a restored message back at its original place, once', async () => {
      await store.write({ append: [message(1), message(3)], remove: [], sent: [] });
      await store.write({ append: [message(2), message(1)], remove: [], sent: [] });
      expect((await store.peek('bob', NOW, 10)).map((m) => m.seq)).toEqual([1, 2, 3]);
    });

    it('never returns or counts expired messages, and purges them', async () => {
      await store.write({ append: [message(1, 'bob', { expiresAt: NOW }), message(2)], remove: [], sent: [] });
      expect((await store.peek('bob', NOW, 10)).map((m) => m.seq)).toEqual([2]);
      expect(await store.count('bob', NOW)).toBe(1);
      expect(await store.purgeExpired(NOW)).toBe(1);
      expect(await store.purgeExpired(NOW)).toBe(0);
      expect(await store.count('bob', NOW + 60_000)).toBe(0);
    });

    it('applies appends and removals of one write together', async () => {
      await store.write({ append: [message(1)], remove: [], sent: [] });
      await store.write({ append: [message(2)], remove: [1], sent: [] });
      expect((await store.peek('bob', NOW, 10)).map((m) => m.seq)).toEqual([2]);
    });

    it('keeps sent records, updates their status, and forgets them when expired', async () => {
      const record = { sender: 'alice', clientId: 'c1', status: 'queued' as const, expiresAt: NOW + 10 };
      await store.write({ append: [], remove: [], sent: [record] });
      expect(await store.findSent('alice', 'c1', NOW)).toEqual(record);
      expect(await store.findSent('alice', 'c2', NOW)).toBeUndefined();
      expect(await store.findSent('bob', 'c1', NOW)).toBeUndefined();
      await store.write({ append: [], remove: [], sent: [{ ...record, status: 'delivered' }] });
      expect((await store.findSent('alice', 'c1', NOW))?.status).toBe('delivered');
      expect(await store.findSent('alice', 'c1', NOW + 10)).toBeUndefined();
      await store.purgeExpired(NOW + 10);
      expect(await store.findSent('alice', 'c1', NOW)).toBeUndefined();
    });

    it('refuses, per recipient, a message past the message quota, and never an old one', async () => {
      const quota = { maxMessages: 2, maxBytes: 1_000_000 };
      const first = await store.write({
        append: [message(1), message(2), message(3), message(4, 'carol', { id: 'c4' })],
        remove: [],
        sent: [],
        quota,
      });
      expect(first.refused).toEqual(['m3']);
      expect((await store.peek('bob', NOW, 10)).map((m) => m.id)).toEqual(['m1', 'm2']);
      expect((await store.peek('carol', NOW, 10)).map((m) => m.id)).toEqual(['c4']);
      // A message already stored is never refused; a removal makes room again.
      expect((await store.write({ append: [message(2)], remove: [], sent: [], quota })).refused).toEqual([]);
      expect((await store.write({ append: [message(5)], remove: [1], sent: [], quota })).refused).toEqual([]);
      expect((await store.peek('bob', NOW, 10)).map((m) => m.id)).toEqual(['m2', 'm5']);
    });

    it('refuses a message past the byte quota, counting UTF-8 bytes of bodies', async () => {
      const quota = { maxMessages: 100, maxBytes: 10 };
      const result = await store.write({
        append: [
          message(1, 'bob', { body: '消息' }),
          message(2, 'bob', { body: 'abcd', clientId: 'c2' }),
          message(3, 'bob', { body: 'a' }),
        ],
        remove: [],
        sent: [{ sender: 'alice', clientId: 'c2', status: 'queued', expiresAt: NOW + 10 }],
        quota,
      });
      // 6 bytes, then 4 more reach 10; the third byte-sized message would be the 11th.
      expect(result.refused).toEqual(['m3']);
      const refused = await store.write({
        append: [message(4, 'bob', { body: 'x', clientId: 'c4' })],
        remove: [],
        sent: [{ sender: 'alice', clientId: 'c4', status: 'queued', expiresAt: NOW + 10 }],
        quota,
      });
      expect(refused.refused).toEqual(['m4']);
      // The sent record of a refused message is not kept: a resend is checked again.
      expect(await store.findSent('alice', 'c4', NOW)).toBeUndefined();
      expect(await store.findSent('alice', 'c2', NOW)).toBeDefined();
    });

    it('frees the quota of expired messages when it purges them', async () => {
      const quota = { maxMessages: 1, maxBytes: 1_000 };
      await store.write({ append: [message(1, 'bob', { expiresAt: NOW })], remove: [], sent: [], quota });
      expect((await store.write({ append: [message(2)], remove: [], sent: [], quota })).refused).toEqual(['m2']);
      await store.purgeExpired(NOW);
      expect((await store.write({ append: [message(2)], remove: [], sent: [], quota })).refused).toEqual([]);
    });

    it('pages by bytes: stops once the bodies reach maxBytes, and always answers one', async () => {
      await store.write({
        append: [1, 2, 3, 4].map((s) => message(s, 'bob', { body: 'x'.repeat(100) })),
        remove: [],
        sent: [],
      });
      expect((await store.peek('bob', NOW, 10, undefined, 150)).map((m) => m.seq)).toEqual([1, 2]);
      expect((await store.peek('bob', NOW, 10, 2, 1)).map((m) => m.seq)).toEqual([3]);
      expect((await store.peek('bob', NOW, 10, undefined, 0)).map((m) => m.seq)).toEqual([1]);
    });

    it('takes a probe write', async () => {
      await expect(store.probe()).resolves.toBeUndefined();
    });

    it('keeps at most maxSentRecords sent records, dropping those that expire first', async () => {
      const record = (clientId: string, expiresAt: number) => ({
        sender: 'alice',
        clientId,
        status: 'delivered' as const,
        expiresAt,
      });
      await store.write({
        append: [],
        remove: [],
        sent: [record('a', NOW + 10), record('b', NOW + 20), record('c', NOW + 30)],
      });
      await store.purgeExpired(NOW, 2);
      expect(await store.findSent('alice', 'a', NOW)).toBeUndefined();
      expect(await store.findSent('alice', 'b', NOW)).toBeDefined();
      expect(await store.findSent('alice', 'c', NOW)).toBeDefined();
    });

    it('answers the highest seq stored', async () => {
      expect(await store.maxSeq()).toBe(0);
      await store.write({ append: [message(7), message(3, 'carol', { id: 'c3' })], remove: [], sent: [] });
      expect(await store.maxSeq()).toBe(7);
    });

    it('lists the users with messages waiting, up to a limit', async () => {
      await store.write({ append: [message(1, 'bob'), message(2, 'carol'), message(3, 'bob')], remove: [], sent: [] });
      expect((await store.recipients(10))!.sort()).toEqual(['bob', 'carol']);
      expect(await store.recipients(1)).toBeUndefined();
    });

    it('keeps messages across close and reopen when the driver is durable', async () => {
      if (!reopen) return;
      const record = { sender: 'alice', clientId: 'c1', status: 'queued' as const, expiresAt: NOW + 10 };
      await store.write({ append: [message(1), message(2)], remove: [], sent: [record] });
      await store.close();
      store = await reopen();
      await store.open();
      expect((await store.peek('bob', NOW, 10)).map((m) => m.seq)).toEqual([1, 2]);
      expect(await store.findSent('alice', 'c1', NOW)).toEqual(record);
    });
  });
}
