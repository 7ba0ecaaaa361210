/** The inbox file's tables, and every statement that changes them (run by the writer thread). */
export const SQLITE_SCHEMA = `
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
  -- No index on inbox.expires_at: the once-a-minute purge scans in the writer thread, which is
  -- cheaper than one more b-tree insert for every message stored.
  DROP INDEX IF EXISTS inbox_by_expiry;
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

export const SQLITE_WRITES = {
  // A resend of a stored message (same derived id) is a no-op; any other conflict is an error,
  // never a silently dropped message.
  insert: `INSERT INTO inbox (seq, id, recipient, sender, client_id, body, ts, expires_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
  remove: 'DELETE FROM inbox WHERE seq = ?',
  upsertSent: `INSERT INTO sent (sender, client_id, message_id, status, expires_at) VALUES (?, ?, ?, ?, ?)
               ON CONFLICT (sender, client_id) DO UPDATE SET status = excluded.status, expires_at = excluded.expires_at`,
  purge: 'DELETE FROM inbox WHERE expires_at <= ?',
  purgeSent: 'DELETE FROM sent WHERE expires_at <= ?',
} as const;

/** Another process holding a write lock (a backup, an operator's sqlite3 shell) gets this long. */
export const BUSY_TIMEOUT_MS = 5_000;
