import Database from 'better-sqlite3';
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
