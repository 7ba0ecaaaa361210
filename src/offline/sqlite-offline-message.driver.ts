import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { SqliteSynchronous } from '../config/app-config.js';
import type { InboxWrite, SentRecord, StoredMessage } from './offline-message.store.js';
import { OfflineMessageStore } from './offline-message.store.js';

/** Another process holding a write lock (a backup, an operator's sqlite3 shell) gets this long. */
const BUSY_TIMEOUT_MS = 5_000;

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS inbox (
    seq        INTEGER PRIMARY KEY,
    id         TEXT    NOT NULL UNIQUE,
    recipient  TEXT    NOT NULL,
    sender     TEXT    NOT NULL,
    client_id  TEXT,
    body       TEXT    NOT NULL,
    ts         INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
  );
  CREATE INDEX IF NOT EXISTS inbox_by_recipient ON inbox (recipient, seq);
  CREATE INDEX IF NOT EXISTS inbox_by_expiry ON inbox (expires_at);
  CREATE TABLE IF NOT EXISTS sent (
    sender     TEXT    NOT NULL,
    client_id  TEXT    NOT NULL,
    message_id TEXT    NOT NULL,
    status     TEXT    NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (sender, client_id)
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS sent_by_expiry ON sent (expires_at);
`;

interface Row {
  seq: number;
  id: string;
  recipient: string;
  sender: string;
  client_id: string | null;
  body: string;
  ts: number;
  expires_at: number;
}

function toMessage(row: Row): StoredMessage {
  const message = {
    id: row.id,
    seq: row.seq,
    from: row.sender,
    to: row.recipient,
    body: row.body,
    ts: row.ts,
    expiresAt: row.expires_at,
  };
  return row.client_id === null ? message : { ...message, clientId: row.client_id };
}

/**
 * Inboxes in an embedded SQLite file (WAL). `synchronous=full` (default) makes every committed
 * write survive power loss; `normal` survives a process crash (`kill -9`) and fsyncs less.
 */
export class SqliteOfflineMessageDriver extends OfflineMessageStore {
  private db?: Database.Database;
  private statements?: ReturnType<SqliteOfflineMessageDriver['prepare']>;
  private applyWrite?: (batch: InboxWrite) => void;

  constructor(
    private readonly path: string,
    private readonly synchronous: SqliteSynchronous = 'full',
  ) {
    super();
  }

  async open(): Promise<void> {
    if (this.path !== ':memory:') mkdirSync(dirname(this.path), { recursive: true });
    const db = new Database(this.path);
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${this.synchronous.toUpperCase()}`);
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.exec(SCHEMA);
    this.db = db;
    const s = (this.statements = this.prepare(db));
    this.applyWrite = db.transaction(({ append, remove, sent }: InboxWrite) => {
      for (const m of append) {
        s.insert.run(m.seq, m.id, m.to, m.from, m.clientId ?? null, m.body, m.ts, m.expiresAt);
      }
      for (const id of remove) s.remove.run(id);
      for (const r of sent) s.upsertSent.run(r.sender, r.clientId, r.messageId, r.status, r.expiresAt);
    });
  }

  async write(batch: InboxWrite): Promise<void> {
    this.opened().applyWrite!(batch);
  }

  async peek(recipient: string, now: number, limit: number, afterSeq = -1): Promise<StoredMessage[]> {
    const rows = this.opened().statements!.peek.all(recipient, afterSeq, now, limit) as Row[];
    return rows.map(toMessage);
  }

  async count(recipient: string, now: number): Promise<number> {
    const row = this.opened().statements!.count.get(recipient, now) as { n: number };
    return row.n;
  }

  async findSent(sender: string, clientId: string, now: number): Promise<SentRecord | undefined> {
    const row = this.opened().statements!.findSent.get(sender, clientId, now) as
      | { message_id: string; status: SentRecord['status']; expires_at: number }
      | undefined;
    if (!row) return undefined;
    return { sender, clientId, messageId: row.message_id, status: row.status, expiresAt: row.expires_at };
  }

  async purgeExpired(now: number): Promise<number> {
    const s = this.opened().statements!;
    s.purgeSent.run(now);
    return s.purge.run(now).changes;
  }

  async close(): Promise<void> {
    this.db?.close();
    this.db = undefined;
  }

  private opened(): this {
    if (!this.db) throw new Error('SQLite offline store is not open');
    return this;
  }

  private prepare(db: Database.Database) {
    return {
      insert: db.prepare(
        `INSERT OR IGNORE INTO inbox (seq, id, recipient, sender, client_id, body, ts, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      remove: db.prepare('DELETE FROM inbox WHERE id = ?'),
      peek: db.prepare(
        `SELECT * FROM inbox WHERE recipient = ? AND seq > ? AND expires_at > ? ORDER BY seq LIMIT ?`,
      ),
      count: db.prepare('SELECT count(*) AS n FROM inbox WHERE recipient = ? AND expires_at > ?'),
      purge: db.prepare('DELETE FROM inbox WHERE expires_at <= ?'),
      upsertSent: db.prepare(
        `INSERT INTO sent (sender, client_id, message_id, status, expires_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (sender, client_id) DO UPDATE SET status = excluded.status`,
      ),
      findSent: db.prepare(
        'SELECT message_id, status, expires_at FROM sent WHERE sender = ? AND client_id = ? AND expires_at > ?',
      ),
      purgeSent: db.prepare('DELETE FROM sent WHERE expires_at <= ?'),
    };
  }
}
