import Database from 'better-sqlite3';
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventually } from '../../test/support/eventually.js';
import { MemoryOfflineMessageDriver } from './memory-offline-message.driver.js';
import { type DeliveredMessage, MAX_SENT_RECORDS, type StoredMessage } from './offline-message.store.js';
import { SqliteOfflineMessageDriver } from './sqlite-offline-message.driver.js';

const NOW = 1_800_000_000_000;

function message(seq: number, to = 'bob', id = `m${seq}`, expiresAt = NOW + 60_000): StoredMessage {
  return { id, seq, from: 'alice', to, body: `body ${seq}`, ts: NOW, expiresAt };
}

/** How a drain removes what it delivered: with the recipient and the body's size. */
const delivered = (m: StoredMessage): DeliveredMessage => ({
  to: m.to,
  seq: m.seq,
  id: m.id,
  bytes: Buffer.byteLength(m.body),
});

/** True once in `n` draws. */
const oneIn = (n: number): fc.Arbitrary<boolean> => fc.integer({ min: 1, max: n }).map((k) => k === 1);

describe('SQLite inbox watermark', () => {
  let dir: string;
  let path: string;
  const stores: SqliteOfflineMessageDriver[] = [];
  const open = async (cacheBytes = 0): Promise<SqliteOfflineMessageDriver> => {
    const store = new SqliteOfflineMessageDriver(path, 'normal', MAX_SENT_RECORDS, cacheBytes);
    await store.open();
    stores.push(store);
    return store;
  };
  /** `read` on a read-only connection of its own to the file, as another process sees it. */
  const inFile = <T>(read: (raw: Database.Database) => T): T => {
    const raw = new Database(path, { readonly: true });
    try {
      return read(raw);
    } finally {
      raw.close();
    }
  };
  /** Rows of `recipient`'s inbox in the file, delivered ones not swept yet included. */
  const rowsOf = (recipient: string): number[] =>
    inFile(
      (raw) => raw.prepare('SELECT seq FROM inbox WHERE recipient = ? ORDER BY seq').pluck().all(recipient) as number[],
    );
  const usageOf = (recipient: string): { messages: number; bytes: number; through: number } | undefined =>
    inFile(
      (raw) =>
        raw
          .prepare('SELECT messages, bytes, delivered_through AS through FROM inbox_usage WHERE recipient = ?')
          .get(recipient) as { messages: number; bytes: number; through: number } | undefined,
    );

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'im-gateway-watermark-'));
    path = join(dir, 'offline.db');
  });
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('moves a drained inbox’s watermark instead of deleting its rows, and sweeps them once the writer is idle', async () => {
    const store = await open();
    const bob = Array.from({ length: 10 }, (_, i) => message(i + 1));
    await store.write({ append: [...bob, message(11, 'carol')], remove: [], sent: [] });
    // A drain: a page read, written out, removed; then the next page.
    const first = await store.peek('bob', NOW, 4);
    await store.write({ append: [], remove: first.map(delivered), sent: [] });
    const rest = await store.peek('bob', NOW, 100, first.at(-1)!.seq);
    expect(rest.map((m) => m.seq)).toEqual([5, 6, 7, 8, 9, 10]);
    await store.write({ append: [], remove: rest.map(delivered), sent: [] });

    // Still in the file, under the watermark: never read, never counted.
    expect(rowsOf('bob')).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(usageOf('bob')).toEqual({ messages: 0, bytes: 0, through: 10 });
    expect(await store.peek('bob', NOW, 100)).toEqual([]);
    expect(await store.count('bob', NOW)).toBe(0);
    expect(await store.recipients(10)).toEqual(['carol']);
    // Removed again (a second connection settled them too), with their sizes and without: nothing
    // changes, the watermark included.
    await store.write({ append: [], remove: first.map(delivered), sent: [] });
    await store.write({ append: [], remove: [{ to: 'bob', seq: 5, id: 'm5' }], sent: [] });
    expect(usageOf('bob')).toEqual({ messages: 0, bytes: 0, through: 10 });
    expect(await store.peek('bob', NOW, 100)).toEqual([]);
    // The quota counts what waits, not what was delivered.
    const again = [message(12), message(13)];
    expect(
      (await store.write({ append: again, remove: [], sent: [], quota: { maxMessages: 2, maxBytes: 100 } })).refused,
    ).toEqual([]);
    expect((await store.peek('bob', NOW, 100)).map((m) => m.id)).toEqual(['m12', 'm13']);

    // The writer idle, the delivered rows go; what waits stays.
    await eventually('the sweep to delete the delivered rows', () => expect(rowsOf('bob')).toEqual([12, 13]));
    expect(usageOf('bob')).toEqual({ messages: 2, bytes: 14, through: 0 });
    expect(rowsOf('carol')).toEqual([11]);
    await store.write({ append: [], remove: again.map(delivered), sent: [] });
    await eventually('the sweep to drop the emptied inbox’s usage row', () => expect(usageOf('bob')).toBeUndefined());
    expect(rowsOf('bob')).toEqual([]);
  });

  it('sweeps between writes once delivered rows have waited 2 s, when the writer is never idle', async () => {
    const store = await open();
    const bob = Array.from({ length: 5 }, (_, i) => message(i + 1));
    await store.write({ append: bob, remove: [], sent: [] });
    await store.write({ append: [], remove: bob.map(delivered), sent: [] });
    const started = Date.now();
    // A write every 30 ms: never 100 ms without one.
    let seq = 100;
    while (rowsOf('bob').length > 0) {
      expect(Date.now() - started, 'swept within 4 s').toBeLessThan(4_000);
      await store.write({ append: [message(++seq, 'carol')], remove: [], sent: [] });
      await sleep(30);
    }
    expect(await store.count('carol', NOW)).toBe(seq - 100);
  });

  it('deletes the delivered rows on a clean close, and sweeps a file left with some when it opens', async () => {
    const store = await open();
    const bob = Array.from({ length: 5 }, (_, i) => message(i + 1));
    await store.write({ append: bob, remove: [], sent: [] });
    await store.write({ append: [], remove: bob.map(delivered), sent: [] });
    await store.close();
    expect(rowsOf('bob')).toEqual([]);
    expect(usageOf('bob')).toBeUndefined();

    // A file a crashed process left with delivered rows under a watermark.
    const raw = new Database(path);
    const insert = raw.prepare(
      'INSERT INTO inbox (seq, id, recipient, sender, body, ts, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    for (const m of [message(6), message(7), message(8)])
      insert.run(m.seq, m.id, m.to, m.from, m.body, m.ts, m.expiresAt);
    raw.prepare('INSERT INTO inbox_usage VALUES (?, ?, ?, ?, ?)').run('bob', 1, 6, 1, 7);
    raw.close();
    const next = await open();
    expect((await next.peek('bob', NOW, 10)).map((m) => m.id)).toEqual(['m8']);
    await eventually('the sweep to delete what the last process left', () => expect(rowsOf('bob')).toEqual([8]));
    expect(usageOf('bob')).toEqual({ messages: 1, bytes: 6, through: 0 });
  });

  it('deletes a run it cannot cover with the watermark: something older waits before it', async () => {
    const store = await open();
    await store.write({ append: [message(1), message(2), message(3)], remove: [], sent: [] });
    // m1 is written out but not settled (a JSON client has not acked it); m2 and m3 are.
    await store.write({ append: [], remove: [delivered(message(2)), delivered(message(3))], sent: [] });
    expect(rowsOf('bob')).toEqual([1]);
    expect(usageOf('bob')).toEqual({ messages: 1, bytes: 6, through: 0 });
    expect((await store.peek('bob', NOW, 10)).map((m) => m.id)).toEqual(['m1']);
  });

  it('takes a message under the watermark: one returned to the inbox, a resend of a delivered id', async () => {
    const store = await open();
    const bob = [message(1), message(2), message(3)];
    const carol = [message(11, 'carol'), message(12, 'carol')];
    const dave = [message(21, 'dave'), message(22, 'dave')];
    await store.write({ append: [...bob, ...carol, ...dave], remove: [], sent: [] });
    await store.write({ append: [], remove: [...bob, ...carol, ...dave].map(delivered), sent: [] });
    expect(usageOf('bob')).toEqual({ messages: 0, bytes: 0, through: 3 });

    // A message some connection held and let go returns with its older seq, below the watermark.
    const back = message(2, 'bob', 'back');
    await store.write({ append: [back], remove: [], sent: [] });
    expect(await store.peek('bob', NOW, 10)).toEqual([back]);
    // A delivered message's id, sent again under a new seq: stored again, not taken for a resend.
    const resent = message(30, 'carol', 'm12');
    await store.write({ append: [resent], remove: [], sent: [] });
    expect(await store.peek('carol', NOW, 10)).toEqual([resent]);
    // At its quota an inbox refuses a delivered id too: it is not there.
    const quota = { maxMessages: 2, maxBytes: 1_000 };
    await store.write({ append: [message(31, 'dave'), message(32, 'dave')], remove: [], sent: [], quota });
    const refused = await store.write({ append: [message(33, 'dave', 'm21')], remove: [], sent: [], quota });
    expect(refused.refused).toEqual(['m21']);
    expect((await store.peek('dave', NOW, 10)).map((m) => m.id)).toEqual(['m31', 'm32']);
    // Removed twice (two connections settled it): counted once.
    await store.write({ append: [], remove: [delivered(message(21, 'dave'))], sent: [] });
    expect(usageOf('dave')).toMatchObject({ messages: 2 });
  });

  it('is swept by the purge, which counts an expired message once', async () => {
    const store = await open();
    const soon = NOW + 10;
    const bob = [1, 2, 3].map((seq) => message(seq, 'bob', `m${seq}`, soon));
    await store.write({ append: [...bob, message(4, 'bob', 'm4', soon), message(5)], remove: [], sent: [] });
    await store.write({ append: [], remove: bob.map(delivered), sent: [] });
    expect(await store.purgeExpired(NOW + 20)).toBe(1);
    expect(rowsOf('bob')).toEqual([5]);
    expect(usageOf('bob')).toEqual({ messages: 1, bytes: 6, through: 0 });
  });

  it('answers as the memory driver does, whatever two processes append, drain, resend and purge', async () => {
    const recipients = ['bob', 'carol'];
    // Drains and removals often, so that a removal often finds rows under a watermark not swept yet.
    const op = fc.oneof(
      {
        weight: 3,
        arbitrary: fc.record({
          kind: fc.constant('append' as const),
          by: fc.nat(1),
          to: fc.constantFrom(...recipients),
          count: fc.integer({ min: 1, max: 4 }),
          // Rare: an expired message waits until the purge and stops a drain's watermark before it.
          expired: oneIn(6),
          older: fc.boolean(),
        }),
      },
      {
        weight: 3,
        arbitrary: fc.record({
          kind: fc.constant('drain' as const),
          by: fc.nat(1),
          to: fc.constantFrom(...recipients),
          page: fc.integer({ min: 1, max: 4 }),
          skip: oneIn(4),
        }),
      },
      {
        weight: 3,
        arbitrary: fc.record({
          kind: fc.constant('remove' as const),
          by: fc.nat(1),
          picks: fc.array(fc.nat(), { maxLength: 3 }),
          sized: fc.boolean(),
        }),
      },
      {
        weight: 2,
        arbitrary: fc.record({
          kind: fc.constant('resend' as const),
          by: fc.nat(1),
          pick: fc.nat(),
          sameSeq: fc.boolean(),
        }),
      },
      {
        weight: 1,
        arbitrary: fc.record({
          kind: fc.constant('quota' as const),
          by: fc.nat(1),
          to: fc.constantFrom(...recipients),
        }),
      },
      // The last drained page removed again (a second connection settled it too), sized or not.
      {
        weight: 2,
        arbitrary: fc.record({ kind: fc.constant('again' as const), by: fc.nat(1), sized: fc.boolean() }),
      },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('purge' as const), by: fc.nat(1) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('idle' as const) }) },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 16 }), async (ops) => {
        rmSync(path, { force: true });
        rmSync(`${path}-wal`, { force: true });
        rmSync(`${path}-shm`, { force: true });
        const writers = [await open(1 << 20), await open(0)];
        const model = new MemoryOfflineMessageDriver();
        let seq = 1_000;
        // Seqs of messages returned to the inbox: older than every new one, never given twice.
        let olderSeq = 1_000;
        let now = NOW;
        const stored: StoredMessage[] = [];
        let drained: StoredMessage[] = [];
        const write = async (by: number, batch: Parameters<SqliteOfflineMessageDriver['write']>[0]) => {
          const got = await writers[by]!.write(batch);
          expect(got).toEqual(await model.write(batch));
        };
        try {
          for (const step of ops) {
            if (step.kind === 'append' || step.kind === 'quota') {
              const count = step.kind === 'append' ? step.count : 3;
              const batch: StoredMessage[] = [];
              for (let i = 0; i < count; i++) {
                const at = step.kind === 'append' && step.older ? --olderSeq : ++seq;
                const expiresAt = step.kind === 'append' && step.expired ? now + 5 : now + 60_000;
                batch.push(message(at, step.to, `m${at}-${seq}`, expiresAt));
              }
              const quota = step.kind === 'quota' ? { maxMessages: 2, maxBytes: 1_000 } : undefined;
              await write(step.by, { append: batch, remove: [], sent: [], quota });
              stored.push(...batch);
            } else if (step.kind === 'drain') {
              // Pages read as a connection reads them, all removed, or all but the first (not acked yet).
              const page = await writers[step.by]!.peek(step.to, now, step.page);
              drained = page.slice(step.skip ? 1 : 0);
              await write(step.by, { append: [], remove: drained.map(delivered), sent: [] });
            } else if (step.kind === 'remove' || step.kind === 'again') {
              const picked =
                step.kind === 'again'
                  ? drained
                  : [...new Set(step.picks.map((p) => stored[p % stored.length]!))].filter(Boolean);
              const remove = picked.map((m) => (step.sized ? delivered(m) : { to: m.to, seq: m.seq, id: m.id }));
              await write(step.by, { append: [], remove, sent: [] });
            } else if (step.kind === 'resend' && stored.length > 0) {
              const first = stored[step.pick % stored.length]!;
              const again = step.sameSeq ? first : { ...first, seq: ++seq };
              await write(step.by, { append: [again], remove: [], sent: [] });
              if (!step.sameSeq) stored.push(again);
            } else if (step.kind === 'purge') {
              now += 10;
              expect(await writers[step.by]!.purgeExpired(now)).toBe(await model.purgeExpired(now));
            } else if (step.kind === 'idle') {
              await sleep(150);
            }
            for (const to of recipients) {
              // The usage row counts every message waiting, the expired ones until the purge.
              const all = await model.peek(to, 0, 1_000);
              const bytes = all.reduce((sum, m) => sum + Buffer.byteLength(m.body), 0);
              expect(usageOf(to) ?? { messages: 0, bytes: 0 }).toMatchObject({ messages: all.length, bytes });
              const want = await model.peek(to, now, 100);
              for (const store of writers) {
                expect(await store.peek(to, now, 100)).toEqual(want);
                expect(await store.count(to, now)).toBe(await model.count(to, now));
              }
            }
          }
        } finally {
          for (const store of stores.splice(0)) await store.close();
        }
      }),
      { numRuns: 60 },
    );
  }, 120_000);
});
