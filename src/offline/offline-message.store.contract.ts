import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DeliveredMessage, OfflineMessageStore, StoredMessage } from './offline-message.store.js';

const NOW = 1_800_000_000_000;

/** A delivered message, as the service names it for a removal. */
function delivered(seq: number, to = 'bob'): DeliveredMessage {
  return { to, seq, id: `m${seq}` };
}

/** `delivered`, with the body's UTF-8 size the service passes along. */
function sized(seq: number, bytes: number, to = 'bob'): DeliveredMessage {
  return { ...delivered(seq, to), bytes };
}

function message(seq: number, to = 'bob', overrides: Partial<StoredMessage> = {}): StoredMessage {
  return { id: `m${seq}`, seq, from: 'alice', to, body: `body ${seq}`, ts: NOW, expiresAt: NOW + 60_000, ...overrides };
}

/** One driver on fresh storage, as each case gets it. */
export interface ContractSubject {
  store: OfflineMessageStore;
  /** Durable drivers: a new store on the same storage, once `store` is closed. */
  reopen?: () => Promise<OfflineMessageStore>;
  /** Drivers that several processes share: a second store on the same storage, beside `store`. */
  openAnother?: () => Promise<OfflineMessageStore>;
  cleanup(): Promise<void>;
}

/**
 * What a driver cannot do by design, each with the reason, which the skipped case's name shows.
 * Known when the suite is declared, before any storage exists.
 */
export interface ContractLimits {
  /** The driver has no `openAnother`: its storage lives in one store instance. */
  readonly singleInstance?: string;
  /**
   * Sent records expire by the storage's own clock: `purgeExpired` neither deletes them at its
   * `now` nor bounds them by `maxSentRecords`.
   */
  readonly sentRecordsExpireOnTheirOwn?: string;
  /** `recipients` always answers `undefined`: the driver keeps no list of the users with messages. */
  readonly noRecipientList?: string;
  /** `listSent` answers false: other processes write sent records to the same storage. */
  readonly noSentList?: string;
}

/** `it`, or a skipped `it` whose name says why. */
function itUnless(why: string | undefined, name: string, test: () => Promise<void>): void {
  if (why === undefined) it(name, test);
  else it.skip(`${name} (not for this driver: ${why})`, test);
}

/** The behaviour every `OfflineMessageStore` driver must have. */
export function describeOfflineStoreContract(
  name: string,
  create: () => Promise<ContractSubject>,
  limits: ContractLimits = {},
): void {
  describe(`OfflineMessageStore contract: ${name}`, () => {
    let store: OfflineMessageStore;
    let reopen: ContractSubject['reopen'];
    let openAnother: ContractSubject['openAnother'];
    let cleanup: () => Promise<void>;
    /** Second stores a case opened: closed before the storage is cleaned up. */
    const others: OfflineMessageStore[] = [];

    beforeEach(async () => {
      ({ store, reopen, openAnother, cleanup } = await create());
      await store.open();
    });
    afterEach(async () => {
      for (const other of others.splice(0)) await other.close();
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

    it('removes delivered messages, and ignores unknown ones', async () => {
      await store.write({ append: [message(1), message(2), message(3)], remove: [], sent: [] });
      await store.write({ append: [], remove: [delivered(2), delivered(99)], sent: [] });
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
      await store.write({ append: [message(2)], remove: [delivered(1)], sent: [] });
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
    });

    itUnless(limits.sentRecordsExpireOnTheirOwn, 'purges the sent records expired at its `now`', async () => {
      const record = { sender: 'alice', clientId: 'c1', status: 'queued' as const, expiresAt: NOW + 10 };
      await store.write({ append: [], remove: [], sent: [record] });
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
      expect((await store.write({ append: [message(5)], remove: [delivered(1)], sent: [], quota })).refused).toEqual(
        [],
      );
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

    it('frees the quota a removal names by its size once, and nothing for a message already gone', async () => {
      const quota = { maxMessages: 3, maxBytes: 300 };
      const body = `${'消'.repeat(33)}x`; // 100 UTF-8 bytes
      await store.write({ append: [1, 2, 3].map((s) => message(s, 'bob', { body })), remove: [], sent: [], quota });
      await store.write({ append: [], remove: [sized(1, 100)], sent: [] });
      // Removed again, and a seq never stored: neither frees anything.
      await store.write({ append: [], remove: [sized(1, 100), sized(99, 100)], sent: [] });
      const next = [4, 5].map((s) => message(s, 'bob', { body }));
      expect((await store.write({ append: next, remove: [], sent: [], quota })).refused).toEqual(['m5']);
      expect((await store.peek('bob', NOW, 10)).map((m) => m.seq)).toEqual([2, 3, 4]);
    });

    it('removes exactly the messages named, however they fall in an inbox, and frees their quota', async () => {
      const body = 'ten bytes!';
      const stored = [1, 2, 3, 5, 6, 7, 8].map((seq) => message(seq, 'bob', { body }));
      await store.write({ append: [...stored, message(4, 'carol', { body })], remove: [], sent: [] });
      // A run of bob's, with carol's message inside its span.
      await store.write({ append: [], remove: [1, 2, 3, 5].map((seq) => sized(seq, 10)), sent: [] });
      expect((await store.peek('bob', NOW, 10)).map((m) => m.seq)).toEqual([6, 7, 8]);
      expect((await store.peek('carol', NOW, 10)).map((m) => m.seq)).toEqual([4]);
      // A run with a message of bob's inside its span that is not removed: it stays.
      await store.write({ append: [], remove: [sized(6, 10), sized(8, 10)], sent: [] });
      expect((await store.peek('bob', NOW, 10)).map((m) => m.seq)).toEqual([7]);
      // One already gone, a removal named twice, and another inbox's in the same write.
      await store.write({
        append: [],
        remove: [sized(5, 10), sized(7, 10), sized(4, 10, 'carol'), sized(7, 10)],
        sent: [],
      });
      expect(await store.peek('bob', NOW, 10)).toEqual([]);
      expect(await store.peek('carol', NOW, 10)).toEqual([]);
      // Every removal freed its message and bytes once: bob's inbox takes two again, not three.
      const quota = { maxMessages: 2, maxBytes: 1_000 };
      const next = [9, 10, 11].map((seq) => message(seq, 'bob', { body }));
      expect((await store.write({ append: next, remove: [], sent: [], quota })).refused).toEqual(['m11']);
      expect(
        (
          await store.write({
            append: [message(12, 'bob', { body })],
            remove: [sized(9, 10), sized(10, 10)],
            sent: [],
            quota,
          })
        ).refused,
      ).toEqual([]);
      const bytes = { maxMessages: 10, maxBytes: 20 };
      expect(
        (
          await store.write({
            append: [message(13, 'bob', { body }), message(14, 'bob', { body })],
            remove: [],
            sent: [],
            quota: bytes,
          })
        ).refused,
      ).toEqual(['m14']);
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

    it('answers the same page, every character kept, whether or not the byte budget binds', async () => {
      const bodies = [
        '"quoted" \\ back\\slash',
        'line\nbreak\ttab\u0000nul\u2028sep',
        '消息 | 🙂 \u{10ffff}',
        '[1,{"a":null}]',
        '  spaced  \n',
      ];
      const stored = bodies.map((body, i) => message(i + 1, 'bob', { body, clientId: i % 2 ? `c"${i}\\` : undefined }));
      await store.write({ append: stored, remove: [], sent: [] });
      const total = bodies.reduce((sum, body) => sum + Buffer.byteLength(body), 0);
      // The whole inbox within the budget, exactly at it, and past it: one answer.
      for (const maxBytes of [Infinity, total, total - 1]) {
        expect(await store.peek('bob', NOW, 10, undefined, maxBytes)).toEqual(stored);
      }
      expect(await store.peek('bob', NOW, 2, 1, total)).toEqual(stored.slice(1, 3));
      expect(await store.peek('bob', NOW, 10, undefined, Buffer.byteLength(bodies[0]!) + 1)).toEqual(
        stored.slice(0, 2),
      );
    });

    it('takes a probe write', async () => {
      await expect(store.probe()).resolves.toBeUndefined();
    });

    itUnless(
      limits.sentRecordsExpireOnTheirOwn,
      'keeps at most maxSentRecords sent records, dropping those that expire first',
      async () => {
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
      },
    );

    it('answers the highest seq stored', async () => {
      expect(await store.maxSeq()).toBe(0);
      await store.write({ append: [message(7), message(3, 'carol', { id: 'c3' })], remove: [], sent: [] });
      expect(await store.maxSeq()).toBe(7);
    });

    itUnless(limits.noRecipientList, 'lists the users with messages waiting, up to a limit', async () => {
      await store.write({ append: [message(1, 'bob'), message(2, 'carol'), message(3, 'bob')], remove: [], sent: [] });
      expect((await store.recipients(10))!.sort()).toEqual(['bob', 'carol']);
      expect(await store.recipients(1)).toBeUndefined();
    });

    itUnless(limits.noSentList, 'lists the sender and client id of every unexpired sent record', async () => {
      const record = (sender: string, clientId: string, expiresAt: number) => ({
        sender,
        clientId,
        status: 'queued' as const,
        expiresAt,
      });
      await store.write({
        append: [],
        remove: [],
        sent: [record('alice', 'c1', NOW + 10), record('bob', 'c\n2', NOW + 10), record('alice', 'old', NOW)],
      });
      const listed: string[] = [];
      expect(await store.listSent(NOW, (sender, clientId) => listed.push(`${sender}/${clientId}`))).toBe(true);
      expect(listed.sort()).toEqual(['alice/c1', 'bob/c\n2']);
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

    itUnless(limits.singleInstance, 'shows each store on one storage what the other wrote', async () => {
      const other = await openAnother!();
      others.push(other);
      await other.open();
      const record = { sender: 'alice', clientId: 'c1', status: 'queued' as const, expiresAt: NOW + 10 };
      await store.write({ append: [message(1), message(2)], remove: [], sent: [record] });
      expect((await other.peek('bob', NOW, 10)).map((m) => m.id)).toEqual(['m1', 'm2']);
      expect(await other.findSent('alice', 'c1', NOW)).toEqual(record);
      expect(await other.maxSeq()).toBe(2);
      await other.write({
        append: [message(3)],
        remove: [delivered(1)],
        sent: [{ ...record, status: 'delivered' }],
      });
      expect((await store.peek('bob', NOW, 10)).map((m) => m.id)).toEqual(['m2', 'm3']);
      expect((await store.findSent('alice', 'c1', NOW))?.status).toBe('delivered');
      expect(await store.count('bob', NOW)).toBe(2);
    });

    it('resolves reads in the order they were called', async () => {
      await store.write({
        append: [1, 2, 3].map((s) => message(s)),
        remove: [],
        sent: [{ sender: 'alice', clientId: 'c1', status: 'queued', expiresAt: NOW + 10 }],
      });
      const resolved: number[] = [];
      const reads: Array<() => Promise<unknown>> = [
        () => store.peek('bob', NOW, 10),
        () => store.findSent('alice', 'c1', NOW),
        () => store.count('bob', NOW),
        () => store.peek('carol', NOW, 10),
        () => store.findSent('alice', 'c2', NOW),
        () => store.peek('bob', NOW, 1, 2),
        () => store.maxSeq(),
        () => store.peek('bob', NOW, 10, undefined, 1),
      ];
      // Started back to back, none awaited before the next starts.
      await Promise.all(reads.map((read, i) => read().then(() => resolved.push(i))));
      expect(resolved).toEqual(reads.map((_, i) => i));
    });
  });
}
