import Database from 'better-sqlite3';
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InboxCache, type UsageWritten } from './inbox-cache.js';
import { type DeliveredMessage, MAX_SENT_RECORDS, type StoredMessage } from './offline-message.store.js';
import { PackedMessages } from './packed-messages.js';
import { SqliteOfflineMessageDriver } from './sqlite-offline-message.driver.js';

const NOW = 1_800_000_000_000;

function message(seq: number, to = 'bob', body = `body ${seq}`, expiresAt = NOW + 60_000): StoredMessage {
  return { id: `m${seq}`, seq, from: 'alice', to, body, ts: NOW, expiresAt };
}

/** The usage rows a commit would write for `inboxes` (what they hold after it), under `stamp`. */
function usage(
  stamp: number,
  inboxes: Record<string, StoredMessage[]>,
  was = stamp - 1,
  inserted: (to: string) => number = () => 0,
): UsageWritten {
  const usageTo = Object.keys(inboxes);
  return {
    stamp,
    usageTo,
    usageMessages: usageTo.map((to) => inboxes[to]!.length),
    usageBytes: usageTo.map((to) => inboxes[to]!.reduce((sum, m) => sum + Buffer.byteLength(m.body), 0)),
    usageWas: usageTo.map(() => was),
    usageInserted: usageTo.map(inserted),
  };
}

interface Commit {
  stamp: number;
  /** The stamp the usage rows had before the commit: by default the commit before's. */
  was?: number;
  /** Appends the commit did not insert (refused, or stored already). */
  skipped?: string[];
  removed?: DeliveredMessage[];
}

/** Applies what a commit of `appended` and `removed` reports, when it leaves `after` in the file. */
function commit(cache: InboxCache, appended: StoredMessage[], after: Record<string, StoredMessage[]>, c: Commit): void {
  const sizes = appended.map((m) => (c.skipped?.includes(m.id) ? -1 : Buffer.byteLength(m.body)));
  const inserted = (to: string) => appended.filter((m, i) => m.to === to && sizes[i]! >= 0).length;
  cache.written(
    PackedMessages.of(appended),
    sizes,
    c.removed ?? [],
    usage(c.stamp, after, c.was ?? c.stamp - 1, inserted),
  );
}

describe('InboxCache', () => {
  it('admits an inbox only when a commit leaves it holding exactly what that commit appended', () => {
    const cache = new InboxCache(1 << 20);
    const bob = [message(1), message(2)];
    const carol = [message(3, 'carol')];
    // carol's inbox holds one more message than this commit appended: someone else's, or older.
    commit(cache, [...bob, ...carol], { bob, carol: [...carol, message(0, 'carol')] }, { stamp: 7 });
    expect(cache.holds('bob')).toBe(true);
    expect(cache.holds('carol')).toBe(false);
    expect(cache.peek('bob', [2, 12, 7], NOW, 10, -1, Infinity)?.map((m) => m.id)).toEqual(['m1', 'm2']);
  });

  it('admits an inbox whose older messages the same commit removed', () => {
    const cache = new InboxCache(1 << 20);
    const removed = [{ to: 'bob', seq: 1, id: 'm1' }];
    commit(cache, [message(2)], { bob: [message(2)] }, { stamp: 3, removed });
    expect(cache.peek('bob', [1, 6, 3], NOW, 10, -1, Infinity)?.map((m) => m.id)).toEqual(['m2']);
  });

  it('answers a read only while the file’s usage row is the one its last commit wrote', () => {
    const cache = new InboxCache(1 << 20);
    const bob = [message(1), message(2)];
    commit(cache, bob, { bob }, { stamp: 7 });
    expect(cache.peek('bob', [2, 12, 7], NOW, 10, -1, Infinity)).toHaveLength(2);
    expect(cache.peek('bob', [2, 12, 8], NOW, 10, -1, Infinity)).toBeUndefined();
    expect(cache.peek('bob', [3, 19, 7], NOW, 10, -1, Infinity)).toBeUndefined();
    expect(cache.peek('bob', undefined, NOW, 10, -1, Infinity)).toBeUndefined();
  });

  it('pages as the file does: past a seq, unexpired, up to a count and a byte budget', () => {
    const cache = new InboxCache(1 << 20);
    const bob = [message(1), message(2, 'bob', 'x', NOW - 1), message(3, 'bob', '消息'), message(4), message(5)];
    commit(cache, bob, { bob }, { stamp: 1 });
    const row = [5, 6 + 1 + 6 + 6 + 6, 1] as const;
    const ids = (afterSeq: number, limit: number, maxBytes: number) =>
      cache.peek('bob', row, NOW, limit, afterSeq, maxBytes)?.map((m) => m.id);
    expect(ids(-1, 10, Infinity)).toEqual(['m1', 'm3', 'm4', 'm5']);
    expect(ids(1, 2, Infinity)).toEqual(['m3', 'm4']);
    expect(ids(-1, 10, 7)).toEqual(['m1', 'm3']);
    expect(ids(-1, 10, 1)).toEqual(['m1']);
    expect(ids(5, 10, Infinity)).toEqual([]);
    expect(cache.peek('bob', row, NOW, 10, -1, Infinity)![1]).toEqual(message(3, 'bob', '消息'));
  });

  it('keeps an inbox through removals and appends in any order, and lets it go when its usage disagrees', () => {
    const cache = new InboxCache(1 << 20);
    const first = [message(10), message(20), message(30)];
    commit(cache, first, { bob: first }, { stamp: 1 });
    // A message a connection let go comes back with its older seq.
    const back = message(15);
    const removed = [{ to: 'bob', seq: 20, id: 'm20' }];
    commit(cache, [back], { bob: [first[0]!, back, first[2]!] }, { stamp: 2, removed });
    expect(cache.peek('bob', [3, 21, 2], NOW, 10, -1, Infinity)?.map((m) => m.seq)).toEqual([10, 15, 30]);
    // The commit's row counts a message this cache never saw: the inbox leaves.
    commit(cache, [message(40)], { bob: [first[0]!, back, first[2]!, message(40), message(41)] }, { stamp: 3 });
    expect(cache.holds('bob')).toBe(false);
  });

  it('lets an inbox go when another store wrote it since, even if the counts come out the same', () => {
    const cache = new InboxCache(1 << 20);
    const bob = [message(1), message(2)];
    commit(cache, bob, { bob }, { stamp: 1 });
    // Another store delivered m1 and stored m3 (same size) under stamp 50; this store's next
    // commit appends m4: the counts agree with [m1, m2, m4], the contents do not.
    commit(cache, [message(4)], { bob: [bob[1]!, message(3), message(4)] }, { stamp: 2, was: 50 });
    expect(cache.holds('bob')).toBe(false);
  });

  it('skips appends the commit refused or found stored already', () => {
    const cache = new InboxCache(1 << 20);
    const bob = [message(1), message(2)];
    commit(cache, [...bob, message(3)], { bob }, { stamp: 1, skipped: ['m3'] });
    expect(cache.peek('bob', [2, 12, 1], NOW, 10, -1, Infinity)?.map((m) => m.id)).toEqual(['m1', 'm2']);
  });

  it('drops what the purge deleted', () => {
    const cache = new InboxCache(1 << 20);
    const bob = [message(1, 'bob', 'a', NOW - 5), message(2), message(3, 'bob', 'c', NOW)];
    commit(cache, bob, { bob }, { stamp: 1 });
    cache.purged(NOW, usage(2, { bob: [bob[1]!] }));
    expect(cache.peek('bob', [1, 6, 2], NOW - 10, 10, -1, Infinity)?.map((m) => m.id)).toEqual(['m2']);
  });

  it('stays within its budget by letting the least recently written inboxes go', () => {
    const body = 'x'.repeat(1_000);
    const cache = new InboxCache(5_000);
    for (const [i, to] of ['bob', 'carol', 'dave'].entries()) {
      const inbox = [message(2 * i + 1, to, body), message(2 * i + 2, to, body)];
      commit(cache, inbox, { [to]: inbox }, { stamp: i + 1 });
      expect(cache.memoryBytes).toBeLessThanOrEqual(5_000);
    }
    expect(cache.holds('bob')).toBe(false);
    expect(cache.holds('carol')).toBe(true);
    expect(cache.holds('dave')).toBe(true);
    // An inbox larger than the whole budget is not kept at all.
    const huge = [message(9, 'erin', 'y'.repeat(6_000))];
    commit(cache, huge, { erin: huge }, { stamp: 9 });
    expect(cache.holds('erin')).toBe(false);
    expect(cache.memoryBytes).toBeLessThanOrEqual(5_000);
  });
});

describe('SqliteOfflineMessageDriver with its inbox cache', () => {
  let dir: string;
  let path: string;
  const stores: SqliteOfflineMessageDriver[] = [];
  const open = async (cacheBytes?: number): Promise<SqliteOfflineMessageDriver> => {
    const store = new SqliteOfflineMessageDriver(path, 'normal', MAX_SENT_RECORDS, cacheBytes);
    await store.open();
    stores.push(store);
    return store;
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'im-gateway-cache-'));
    path = join(dir, 'offline.db');
  });
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves what it wrote from memory, and what another store wrote from the file', async () => {
    const store = await open();
    await store.write({ append: [message(1), message(2)], remove: [], sent: [] });
    // Rows deleted behind both stores' backs, the usage row left as it was: only memory still has them.
    const raw = new Database(path);
    raw.prepare('DELETE FROM inbox').run();
    expect((await store.peek('bob', NOW, 10)).map((m) => m.id)).toEqual(['m1', 'm2']);
    raw
      .prepare('INSERT INTO inbox (seq, id, recipient, sender, body, ts, expires_at) VALUES (1, ?, ?, ?, ?, ?, ?)')
      .run('m1', 'bob', 'alice', 'body 1', NOW, NOW + 60_000);
    raw
      .prepare('INSERT INTO inbox (seq, id, recipient, sender, body, ts, expires_at) VALUES (2, ?, ?, ?, ?, ?, ?)')
      .run('m2', 'bob', 'alice', 'body 2', NOW, NOW + 60_000);
    raw.close();
    // Another store (a second process on the file) delivers one and stores one: read from the file.
    const other = await open();
    await other.write({ append: [message(3)], remove: [{ to: 'bob', seq: 1, id: 'm1', bytes: 6 }], sent: [] });
    expect((await store.peek('bob', NOW, 10)).map((m) => m.id)).toEqual(['m2', 'm3']);
    // Its own next commit (which finds a message it never saw) does not bring the inbox back.
    await store.write({ append: [message(4)], remove: [], sent: [] });
    const raw2 = new Database(path);
    raw2.prepare('DELETE FROM inbox WHERE seq = 4').run();
    raw2.close();
    expect((await store.peek('bob', NOW, 10)).map((m) => m.id)).toEqual(['m2', 'm3']);
  });

  it('answers every read as the file does, whatever two stores write to it', async () => {
    const recipients = ['bob', 'carol', 'dave'];
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('append' as const),
        by: fc.nat(1),
        to: fc.constantFrom(...recipients),
        count: fc.integer({ min: 1, max: 4 }),
        // Few bodies, so that two inboxes often have the same count and bytes.
        body: fc.constantFrom('a', 'b', '消息🙂', 'x\u0000y'),
        expired: fc.boolean(),
        older: fc.boolean(),
      }),
      fc.record({ kind: fc.constant('resend' as const), by: fc.nat(1), pick: fc.nat() }),
      fc.record({
        kind: fc.constant('remove' as const),
        by: fc.nat(1),
        picks: fc.array(fc.nat(), { maxLength: 4 }),
        sized: fc.boolean(),
      }),
      fc.record({ kind: fc.constant('purge' as const), by: fc.nat(1) }),
      fc.record({ kind: fc.constant('quota' as const), by: fc.nat(1), to: fc.constantFrom(...recipients) }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(op, { minLength: 1, maxLength: 14 }),
        fc.constantFrom(600, 1 << 20),
        async (ops, budget) => {
          rmSync(path, { force: true });
          rmSync(`${path}-wal`, { force: true });
          rmSync(`${path}-shm`, { force: true });
          const cached = await open(budget);
          const other = await open();
          const plain = await open(0);
          const writers = [cached, other];
          let seq = 1_000;
          // Seqs of messages returned to the inbox: older than every new one, never given twice.
          let olderSeq = 1_000;
          let now = NOW;
          const stored: StoredMessage[] = [];
          try {
            for (const step of ops) {
              const by = writers[step.by]!;
              if (step.kind === 'append' || step.kind === 'quota') {
                const to = step.to;
                const count = step.kind === 'append' ? step.count : 3;
                const batch: StoredMessage[] = [];
                for (let i = 0; i < count; i++) {
                  // A message returned to the inbox keeps its older seq.
                  const at = step.kind === 'append' && step.older ? --olderSeq : ++seq;
                  const body = step.kind === 'append' ? step.body : 'q';
                  batch.push({
                    ...message(at, to, body, step.kind === 'append' && step.expired ? now + 5 : now + 60_000),
                    id: `m${at}-${seq}`,
                  });
                }
                const quota = step.kind === 'quota' ? { maxMessages: 2, maxBytes: 1_000 } : undefined;
                await by.write({ append: batch, remove: [], sent: [], quota });
                stored.push(...batch);
              } else if (step.kind === 'resend' && stored.length > 0) {
                const again = stored[step.pick % stored.length]!;
                await by.write({ append: [{ ...again, body: `${again.body}!` }], remove: [], sent: [] });
              } else if (step.kind === 'remove' && stored.length > 0) {
                const picked = [...new Set(step.picks.map((p) => stored[p % stored.length]!))];
                await by.write({
                  append: [],
                  remove: picked.map((m) => ({
                    to: m.to,
                    seq: m.seq,
                    id: m.id,
                    ...(step.sized ? { bytes: Buffer.byteLength(m.body) } : {}),
                  })),
                  sent: [],
                });
              } else if (step.kind === 'purge') {
                now += 10;
                await by.purgeExpired(now);
              }
              for (const to of recipients) {
                const want = await plain.peek(to, now, 100);
                expect(await cached.peek(to, now, 100)).toEqual(want);
                if (want.length > 1) {
                  expect(await cached.peek(to, now, 2, want[0]!.seq, 3)).toEqual(
                    await plain.peek(to, now, 2, want[0]!.seq, 3),
                  );
                }
              }
            }
          } finally {
            for (const store of stores.splice(0)) await store.close();
          }
        },
      ),
      { numRuns: 40 },
    );
  }, 120_000);
});
