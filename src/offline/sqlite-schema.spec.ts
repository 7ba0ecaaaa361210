import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteOfflineMessageDriver } from './sqlite-offline-message.driver.js';

const NOW = 1_800_000_000_000;

/** The file layout of the version before inbox quotas and compact sent records. */
const PREVIOUS_SCHEMA = `
  CREATE TABLE inbox (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, recipient TEXT NOT NULL, sender TEXT NOT NULL,
    client_id TEXT, body TEXT NOT NULL, ts INTEGER NOT NULL, expires_at INTEGER NOT NULL);
  CREATE INDEX inbox_by_recipient ON inbox (recipient, seq);
  CREATE TABLE sent (sender TEXT NOT NULL, client_id TEXT NOT NULL, message_id TEXT NOT NULL, status TEXT NOT NULL,
    expires_at INTEGER NOT NULL, PRIMARY KEY (sender, client_id)) WITHOUT ROWID;
  CREATE INDEX sent_by_expiry ON sent (expires_at);
`;

describe('SQLite inbox file from the previous version', () => {
  const dir = mkdtempSync(join(tmpdir(), 'im-gateway-migrate-'));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps its messages and sent records, and counts its inboxes against the quota', async () => {
    const path = join(dir, 'offline.db');
    const old = new Database(path);
    old.exec(PREVIOUS_SCHEMA);
    const insert = old.prepare('INSERT INTO inbox VALUES (?, ?, ?, ?, NULL, ?, ?, ?)');
    insert.run(1, 'm1', 'bob', 'alice', '消息', NOW, NOW + 60_000);
    insert.run(2, 'm2', 'bob', 'alice', 'hi', NOW, NOW + 60_000);
    old.prepare('INSERT INTO sent VALUES (?, ?, ?, ?, ?)').run('alice', 'c1', 'm1', 'delivered', NOW + 60_000);
    old.close();

    const store = new SqliteOfflineMessageDriver(path);
    await store.open();
    try {
      expect((await store.peek('bob', NOW, 10)).map((m) => m.id)).toEqual(['m1', 'm2']);
      expect(await store.findSent('alice', 'c1', NOW)).toEqual({
        sender: 'alice',
        clientId: 'c1',
        status: 'delivered',
        expiresAt: NOW + 60_000,
      });
      const message = { id: 'm3', seq: 3, from: 'alice', to: 'bob', body: 'x', ts: NOW, expiresAt: NOW + 60_000 };
      // bob holds 2 messages and 8 bytes already.
      expect(
        (await store.write({ append: [message], remove: [], sent: [], quota: { maxMessages: 2, maxBytes: 100 } }))
          .refused,
      ).toEqual(['m3']);
      expect(
        (await store.write({ append: [message], remove: [], sent: [], quota: { maxMessages: 3, maxBytes: 8 } }))
          .refused,
      ).toEqual(['m3']);
      expect(
        (await store.write({ append: [message], remove: [], sent: [], quota: { maxMessages: 3, maxBytes: 9 } }))
          .refused,
      ).toEqual([]);
    } finally {
      await store.close();
    }
  });
});

/** The usage table before its stamp column (the release before the inbox cache). */
const UNSTAMPED_USAGE_SCHEMA = `
  CREATE TABLE inbox (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, recipient TEXT NOT NULL, sender TEXT NOT NULL,
    client_id TEXT, body TEXT NOT NULL, ts INTEGER NOT NULL, expires_at INTEGER NOT NULL);
  CREATE INDEX inbox_by_recipient ON inbox (recipient, seq);
  CREATE TABLE inbox_usage (recipient TEXT PRIMARY KEY, messages INTEGER NOT NULL, bytes INTEGER NOT NULL) WITHOUT ROWID;
`;

describe('SQLite file whose usage rows carry no stamp', () => {
  const dir = mkdtempSync(join(tmpdir(), 'im-gateway-migrate-'));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps its inboxes and their usage, and caches an inbox again once a commit holds all of it', async () => {
    const path = join(dir, 'offline.db');
    const old = new Database(path);
    old.exec(UNSTAMPED_USAGE_SCHEMA);
    old
      .prepare('INSERT INTO inbox VALUES (1, ?, ?, ?, NULL, ?, ?, ?)')
      .run('m1', 'bob', 'alice', 'hi', NOW, NOW + 60_000);
    old.prepare('INSERT INTO inbox_usage VALUES (?, ?, ?)').run('bob', 1, 2);
    old.close();

    const store = new SqliteOfflineMessageDriver(path);
    await store.open();
    try {
      const at = (seq: number) => ({
        id: `m${seq}`,
        seq,
        from: 'alice',
        to: 'bob',
        body: 'hi',
        ts: NOW,
        expiresAt: NOW + 60_000,
      });
      expect(
        (await store.write({ append: [at(2)], remove: [], sent: [], quota: { maxMessages: 2, maxBytes: 100 } }))
          .refused,
      ).toEqual([]);
      expect(
        (await store.write({ append: [at(3)], remove: [], sent: [], quota: { maxMessages: 2, maxBytes: 100 } }))
          .refused,
      ).toEqual(['m3']);
      expect((await store.peek('bob', NOW, 10)).map((m) => m.id)).toEqual(['m1', 'm2']);
      // m1 and m2 delivered and m3 stored in one commit: the inbox is all this store's now.
      await store.write({
        append: [at(3)],
        remove: [
          { to: 'bob', seq: 1, id: 'm1', bytes: 2 },
          { to: 'bob', seq: 2, id: 'm2', bytes: 2 },
        ],
        sent: [],
      });
      const raw = new Database(path);
      expect(raw.prepare('SELECT messages, bytes, stamp > 0 AS stamped FROM inbox_usage').all()).toEqual([
        { messages: 1, bytes: 2, stamped: 1 },
      ]);
      // Gone from the file behind the store's back, still answered: the read came from memory.
      raw.prepare('DELETE FROM inbox').run();
      raw.close();
      expect((await store.peek('bob', NOW, 10)).map((m) => m.id)).toEqual(['m3']);
    } finally {
      await store.close();
    }
  });
});

/** The layout before the sent log: sent records keyed by (sender, client id). */
const KEYED_SENT_SCHEMA = `
  CREATE TABLE sent_record (sender TEXT NOT NULL, client_id TEXT NOT NULL, delivered INTEGER NOT NULL,
    expires_at INTEGER NOT NULL, PRIMARY KEY (sender, client_id)) WITHOUT ROWID;
  CREATE INDEX sent_record_by_expiry ON sent_record (expires_at);
`;

describe('SQLite file with sent records keyed by (sender, client id)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'im-gateway-migrate-'));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('moves them to the log, where lookups and new records find them', async () => {
    const path = join(dir, 'offline.db');
    const old = new Database(path);
    old.exec(KEYED_SENT_SCHEMA);
    const insert = old.prepare('INSERT INTO sent_record VALUES (?, ?, ?, ?)');
    insert.run('alice', 'c1', 1, NOW + 60_000);
    insert.run('alice', 'c2', 0, NOW + 30_000);
    old.close();

    const store = new SqliteOfflineMessageDriver(path);
    await store.open();
    try {
      expect((await store.findSent('alice', 'c1', NOW))?.status).toBe('delivered');
      expect((await store.findSent('alice', 'c2', NOW))?.status).toBe('queued');
      await store.write({
        append: [],
        remove: [],
        sent: [{ sender: 'alice', clientId: 'c2', status: 'delivered', expiresAt: NOW + 90_000 }],
      });
      expect(await store.findSent('alice', 'c2', NOW)).toEqual({
        sender: 'alice',
        clientId: 'c2',
        status: 'delivered',
        expiresAt: NOW + 90_000,
      });
    } finally {
      await store.close();
    }
    const reopened = new Database(path, { readonly: true });
    const tables = reopened.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).pluck().all();
    reopened.close();
    expect(tables).toContain('sent_log');
    expect(tables).not.toContain('sent_record');
  });
});

describe('SQLite sent log', () => {
  const dir = mkdtempSync(join(tmpdir(), 'im-gateway-sent-log-'));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('finds records with random client ids after a reopen, and new ones after every old one was purged', async () => {
    const path = join(dir, 'offline.db');
    const records = Array.from({ length: 3_000 }, (_, i) => ({
      sender: `user-${i % 40}`,
      clientId: randomUUID(),
      status: i % 2 === 0 ? ('delivered' as const) : ('queued' as const),
      expiresAt: NOW + 60_000,
    }));
    let store = new SqliteOfflineMessageDriver(path);
    await store.open();
    await store.write({ append: [], remove: [], sent: records.slice(0, 1_500) });
    await store.write({ append: [], remove: [], sent: records.slice(1_500) });
    await store.close();

    store = new SqliteOfflineMessageDriver(path);
    await store.open();
    try {
      for (const record of records) expect(await store.findSent(record.sender, record.clientId, NOW)).toEqual(record);
      expect(await store.findSent('user-1', randomUUID(), NOW)).toBeUndefined();

      // Every record expired and purged: a seq is not given twice, so a new record is indexed and found.
      await store.purgeExpired(NOW + 60_000);
      expect(await store.findSent(records[0]!.sender, records[0]!.clientId, NOW)).toBeUndefined();
      const again = { ...records[0]!, clientId: randomUUID(), status: 'queued' as const, expiresAt: NOW + 120_000 };
      await store.write({ append: [], remove: [], sent: [again] });
      expect(await store.findSent(again.sender, again.clientId, NOW + 60_001)).toEqual(again);
    } finally {
      await store.close();
    }
  });

  it('indexes a write of many pages of records at the seqs they got, around records dropped with a refused message', async () => {
    const store = new SqliteOfflineMessageDriver(join(dir, 'paged.db'));
    await store.open();
    // 1,000 live records, then queued messages to carol whose quota takes the first 30 only;
    // then another 203 live records: a refused message's record falls out between full pages.
    const live = (n: number) =>
      Array.from({ length: n }, (_, i) => ({
        sender: `user-${i % 7}`,
        clientId: randomUUID(),
        status: 'delivered' as const,
        expiresAt: NOW + 60_000,
      }));
    const before = live(1_000);
    const after = live(203);
    const queued = Array.from({ length: 100 }, () => ({
      sender: 'dave',
      clientId: randomUUID(),
      status: 'queued' as const,
      expiresAt: NOW + 60_000,
    }));
    const append = queued.map(({ clientId }, i) => ({
      id: `q-${i}`,
      seq: i + 1,
      from: 'dave',
      to: 'carol',
      body: 'x',
      ts: NOW,
      expiresAt: NOW + 60_000,
      clientId,
    }));
    try {
      const result = await store.write({
        append,
        remove: [],
        sent: [...before, ...queued, ...after],
        quota: { maxMessages: 30, maxBytes: 1_000_000 },
      });
      expect(result.refused).toEqual(append.slice(30).map((m) => m.id));
      for (const record of [...before, ...queued.slice(0, 30), ...after]) {
        expect(await store.findSent(record.sender, record.clientId, NOW)).toEqual(record);
      }
      for (const record of queued.slice(30))
        expect(await store.findSent(record.sender, record.clientId, NOW)).toBeUndefined();
    } finally {
      await store.close();
    }
  });

  it('keeps the log at its cap as records are appended, without waiting for the purge', async () => {
    const path = join(dir, 'capped.db');
    const store = new SqliteOfflineMessageDriver(path, 'full', 15);
    await store.open();
    const records = Array.from({ length: 40 }, () => ({
      sender: 'alice',
      clientId: randomUUID(),
      status: 'delivered' as const,
      expiresAt: NOW + 60_000,
    }));
    try {
      for (let i = 0; i < records.length; i += 10) {
        await store.write({ append: [], remove: [], sent: records.slice(i, i + 10) });
      }
      const found = [];
      for (const record of records)
        found.push((await store.findSent(record.sender, record.clientId, NOW)) !== undefined);
      expect(found).toEqual(records.map((_, i) => i >= 25));
    } finally {
      await store.close();
    }
    const db = new Database(path, { readonly: true });
    expect(db.prepare('SELECT count(*) FROM sent_log').pluck().get()).toBe(15);
    db.close();
  });
});
