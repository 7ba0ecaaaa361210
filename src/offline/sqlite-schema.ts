import type Database from 'better-sqlite3';

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
  -- What each recipient's inbox holds, kept by the writer with every change, so a quota check
  -- reads one row instead of counting an inbox. Expired messages count until the purge. The
  -- stamp is drawn anew by each transaction that writes the row: a store that caches an inbox
  -- (inbox-cache.ts) knows from it whether anyone changed the inbox since its own commit.
  -- delivered_through is the inbox's watermark: its rows up to that seq were delivered (a drain
  -- removes oldest first) and wait for the writer thread's sweep, never read and not counted.
  CREATE TABLE IF NOT EXISTS inbox_usage (
    recipient TEXT    PRIMARY KEY,
    messages  INTEGER NOT NULL,
    bytes     INTEGER NOT NULL,
    stamp     INTEGER NOT NULL DEFAULT 0,
    delivered_through INTEGER NOT NULL DEFAULT 0
  ) WITHOUT ROWID;
  -- The answers JSON senders got, appended in seq (rowid) order: a record
  -- costs one b-tree page shared with its neighbours, where a table keyed by (sender, client id)
  -- rewrote a random page per record. The message id is derived from the key, so it is not
  -- stored. Looked up by seq, through the index kept in memory (sent-log-index.ts); a newer row
  -- for the same pair (queued, then delivered) supersedes an older one.
  -- AUTOINCREMENT: a seq is never given again, even once every row has been purged.
  CREATE TABLE IF NOT EXISTS sent_log (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    sender     TEXT    NOT NULL,
    client_id  TEXT    NOT NULL,
    delivered  INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
  );
  -- One row rewritten by the health probe after a failed write.
  CREATE TABLE IF NOT EXISTS write_probe (id INTEGER PRIMARY KEY, at INTEGER NOT NULL);
`;

/**
 * Brings a file written by an earlier version up to the schema, in one transaction: the sent
 * records move to the log, oldest first, and the usage table is filled from the inbox.
 */
export function migrateSqliteSchema(db: Database.Database): void {
  const exists = (table: string): boolean =>
    db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(table) !== undefined;
  db.transaction(() => {
    const usageIsNew = !exists('inbox_usage');
    const oldSent = exists('sent');
    const keyedSent = exists('sent_record');
    db.exec(SQLITE_SCHEMA);
    const usageColumns = db.prepare('SELECT name FROM pragma_table_info(?)').pluck().all('inbox_usage');
    if (!usageColumns.includes('stamp')) db.exec('ALTER TABLE inbox_usage ADD COLUMN stamp INTEGER NOT NULL DEFAULT 0');
    if (!usageColumns.includes('delivered_through')) {
      db.exec('ALTER TABLE inbox_usage ADD COLUMN delivered_through INTEGER NOT NULL DEFAULT 0');
    }
    if (usageIsNew) {
      db.exec(`INSERT INTO inbox_usage (recipient, messages, bytes)
               SELECT recipient, count(*), sum(octet_length(body)) FROM inbox GROUP BY recipient`);
    }
    if (oldSent) {
      db.exec(`INSERT INTO sent_log (sender, client_id, delivered, expires_at)
               SELECT sender, client_id, status = 'delivered', expires_at FROM sent ORDER BY expires_at;
               DROP TABLE sent;`);
    }
    if (keyedSent) {
      db.exec(`INSERT INTO sent_log (sender, client_id, delivered, expires_at)
               SELECT sender, client_id, delivered, expires_at FROM sent_record ORDER BY expires_at;
               DROP TABLE sent_record;`);
    }
  })();
}

/**
 * Sent records appended by one statement: a statement's own cost, AUTOINCREMENT's bookkeeping
 * included, is paid once per page instead of once per record (about half the writer's time per
 * record). 64 × 4 parameters stays far below SQLite's limit.
 */
export const SENT_APPEND_PAGE = 64;

export const SQLITE_WRITES = {
  // A resend of a stored message (same derived id) is a no-op; any other conflict is an error,
  // never a silently dropped message.
  insert: `INSERT INTO inbox (seq, id, recipient, sender, client_id, body, ts, expires_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
  stored: 'SELECT recipient, seq FROM inbox WHERE id = ?',
  // Read, then deleted: a point DELETE with RETURNING costs about three times the CPU of the two.
  removing: 'SELECT recipient, octet_length(body) AS bytes FROM inbox WHERE seq = ?',
  remove: 'DELETE FROM inbox WHERE seq = ?',
  // A run of one inbox's removals: the seqs it holds in the run's span (read from the index
  // alone), then, when they are the run's and nothing else, one statement for the span.
  seqsBetween: 'SELECT seq FROM inbox WHERE recipient = ? AND seq BETWEEN ? AND ? ORDER BY seq',
  removeBetween: 'DELETE FROM inbox WHERE recipient = ? AND seq BETWEEN ? AND ?',
  // Whether the inbox holds a message past its watermark and before a run: if not, the run only
  // moves the watermark.
  heldBefore: 'SELECT 1 FROM inbox WHERE recipient = ? AND seq > ? AND seq < ? LIMIT 1',
  // Rows under an inbox's watermark (delivered, not counted, never read) deleted: all of them, or
  // a chunk (the seq past the chunk, then what lies before it).
  sweep: 'DELETE FROM inbox WHERE recipient = ? AND seq <= ?',
  sweepCut: 'SELECT seq FROM inbox WHERE recipient = ? AND seq <= ? ORDER BY seq LIMIT 1 OFFSET ?',
  sweepBefore: 'DELETE FROM inbox WHERE recipient = ? AND seq < ?',
  clearWatermark: 'UPDATE inbox_usage SET delivered_through = 0 WHERE recipient = ?',
  watermarks: 'SELECT recipient FROM inbox_usage WHERE delivered_through > 0',
  // Also the reading connection's check of a cached inbox (inbox-cache.ts).
  usage: 'SELECT messages, bytes, stamp, delivered_through FROM inbox_usage WHERE recipient = ?',
  setUsage: `INSERT INTO inbox_usage (recipient, messages, bytes, stamp, delivered_through) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (recipient) DO UPDATE
             SET messages = excluded.messages, bytes = excluded.bytes, stamp = excluded.stamp,
                 delivered_through = excluded.delivered_through`,
  dropUsage: 'DELETE FROM inbox_usage WHERE recipient = ?',
  appendSent: 'INSERT INTO sent_log (sender, client_id, delivered, expires_at) VALUES (?, ?, ?, ?)',
  appendSentPage: `INSERT INTO sent_log (sender, client_id, delivered, expires_at) VALUES ${Array(SENT_APPEND_PAGE).fill('(?, ?, ?, ?)').join(', ')}`,
  purge: 'DELETE FROM inbox WHERE expires_at <= ? RETURNING recipient, octet_length(body) AS bytes',
  // A scan, once a minute in the writer thread: cheaper than an expiry index updated per record.
  purgeSent: 'DELETE FROM sent_log WHERE expires_at <= ?',
  capSent: 'DELETE FROM sent_log WHERE seq <= (SELECT seq FROM sent_log ORDER BY seq DESC LIMIT 1 OFFSET ?)',
  trimSent: 'DELETE FROM sent_log WHERE seq <= ?',
  probe: 'INSERT OR REPLACE INTO write_probe (id, at) VALUES (1, ?)',
} as const;

/** Another process holding a write lock (a backup, an operator's sqlite3 shell) gets this long. */
export const BUSY_TIMEOUT_MS = 5_000;
