import Database from 'better-sqlite3';
import { accessSync, constants, existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { SqliteSynchronous } from '../config/app-config.js';
import type { InboxWrite, SentRecord, StoredMessage, WriteResult } from './offline-message.store.js';
import { MAX_SENT_RECORDS, OfflineMessageStore } from './offline-message.store.js';
import { BUSY_TIMEOUT_MS, migrateSqliteSchema } from './sqlite-schema.js';
import { SqliteWriter } from './sqlite-writer.js';

/**
 * A peeked row as an array (the statement is `raw`): no object keyed by column name per row, which
 * costs about a third of a drain's read. Its last value is the body's size in UTF-8 bytes.
 */
type Row = [
  seq: number,
  id: string,
  sender: string,
  clientId: string | null,
  body: string,
  ts: number,
  expiresAt: number,
  bytes: number,
];

/** The recipient is the one asked for: not read from each row, which saves a string per message. */
function toMessage(row: Row, to: string): StoredMessage {
  const [seq, id, from, clientId, body, ts, expiresAt] = row;
  if (clientId === null) return { id, seq, from, to, body, ts, expiresAt };
  return { id, seq, from, to, body, ts, expiresAt, clientId };
}

/** Why SQLITE_PATH cannot be opened, naming the variable, the path, the reason and what to do. */
function openProblem(path: string, error: unknown): string {
  const where = `SQLITE_PATH=${JSON.stringify(path)} (${resolve(path)})`;
  const code = (error as { code?: string }).code;
  const dir = dirname(path);
  if (existsSync(path) && statSync(path).isDirectory()) return `Cannot open ${where}: it is a directory, not a file`;
  if (code === 'ENOTDIR' || code === 'EEXIST') return `Cannot open ${where}: a part of its directory path is a file`;
  if (code === 'SQLITE_NOTADB') return `Cannot open ${where}: the file is not a SQLite database`;
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS' || !writable(existsSync(path) ? path : dir)) {
    return `Cannot open ${where}: permission denied; the process (uid ${process.getuid?.() ?? '?'}) must be able to write the file and its directory (the image runs as uid 1000: chown the volume or bind mount to 1000)`;
  }
  return `Cannot open ${where}: ${(error as Error).message}`;
}

function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * `mkdir -p`, one level at a time. Node's recursive mkdir never returns where the kernel answers
 * ENOENT under a parent that exists (a path under /proc); this fails with that answer instead.
 */
function makeDirectory(path: string): void {
  if (existsSync(path)) {
    if (statSync(path).isDirectory()) return;
    throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${path}'`), { code: 'ENOTDIR' });
  }
  const parent = dirname(path);
  if (parent !== path) makeDirectory(parent);
  try {
    mkdirSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
}

/**
 * Inboxes in an embedded SQLite file (WAL). Writes go to a writer thread (`SqliteWriter`), reads
 * are served here from a second connection that sees every committed write. `synchronous=full`
 * (default) makes every committed write survive power loss; `normal` survives a process crash
 * (`kill -9`) and fsyncs less.
 */
export class SqliteOfflineMessageDriver extends OfflineMessageStore {
  private db?: Database.Database;
  private statements?: ReturnType<SqliteOfflineMessageDriver['prepare']>;
  private writer?: SqliteWriter;

  constructor(
    private readonly path: string,
    private readonly synchronous: SqliteSynchronous = 'full',
  ) {
    super();
  }

  async open(): Promise<void> {
    let db: Database.Database;
    try {
      makeDirectory(dirname(this.path));
      db = new Database(this.path);
      db.pragma('journal_mode = WAL');
    } catch (error) {
      throw new Error(openProblem(this.path, error));
    }
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    migrateSqliteSchema(db);
    this.db = db;
    this.statements = this.prepare(db);
    this.writer = new SqliteWriter(this.path, this.synchronous);
  }

  write(batch: InboxWrite): Promise<WriteResult> {
    return this.opened().writer!.write(batch);
  }

  probe(): Promise<void> {
    return this.opened().writer!.probe();
  }

  async peek(
    recipient: string,
    now: number,
    limit: number,
    afterSeq = -1,
    maxBytes = Infinity,
  ): Promise<StoredMessage[]> {
    const out: StoredMessage[] = [];
    let bytes = 0;
    // Stepping the cursor (instead of `all`) stops reading as soon as the byte budget is spent.
    for (const row of this.opened().statements!.peek.iterate(
      recipient,
      afterSeq,
      now,
      limit,
    ) as IterableIterator<Row>) {
      out.push(toMessage(row, recipient));
      bytes += row[7];
      if (bytes >= maxBytes) break;
    }
    return out;
  }

  async count(recipient: string, now: number): Promise<number> {
    const row = this.opened().statements!.count.get(recipient, now) as { n: number };
    return row.n;
  }

  async maxSeq(): Promise<number> {
    const row = this.opened().statements!.maxSeq.get() as { m: number | null };
    return row.m ?? 0;
  }

  async recipients(limit: number): Promise<string[] | undefined> {
    const rows = this.opened().statements!.recipients.all(limit + 1) as Array<{ recipient: string }>;
    return rows.length > limit ? undefined : rows.map((r) => r.recipient);
  }

  async listSent(now: number, visit: (sender: string, clientId: string) => void): Promise<boolean> {
    const rows = this.opened().statements!.listSent.raw().iterate(now) as IterableIterator<[string, string]>;
    for (const [sender, clientId] of rows) visit(sender, clientId);
    return true;
  }

  async findSent(sender: string, clientId: string, now: number): Promise<SentRecord | undefined> {
    const row = this.opened().statements!.findSent.get(sender, clientId, now) as
      | { delivered: number; expires_at: number }
      | undefined;
    if (!row) return undefined;
    return { sender, clientId, status: row.delivered === 1 ? 'delivered' : 'queued', expiresAt: row.expires_at };
  }

  purgeExpired(now: number, maxSentRecords = MAX_SENT_RECORDS): Promise<number> {
    return this.opened().writer!.purge(now, maxSentRecords);
  }

  async close(): Promise<void> {
    await this.writer?.close();
    this.writer = undefined;
    this.db?.close();
    this.db = undefined;
  }

  override isHealthy(): boolean {
    return this.writer?.healthy ?? false;
  }

  private opened(): this {
    if (!this.db) throw new Error('SQLite offline store is not open');
    return this;
  }

  private prepare(db: Database.Database) {
    return {
      peek: db
        .prepare(
          `SELECT seq, id, sender, client_id, body, ts, expires_at, octet_length(body) FROM inbox
           WHERE recipient = ? AND seq > ? AND expires_at > ? ORDER BY seq LIMIT ?`,
        )
        .raw(true),
      maxSeq: db.prepare('SELECT max(seq) AS m FROM inbox'),
      recipients: db.prepare('SELECT recipient FROM inbox_usage LIMIT ?'),
      count: db.prepare('SELECT count(*) AS n FROM inbox WHERE recipient = ? AND expires_at > ?'),
      listSent: db.prepare('SELECT sender, client_id FROM sent_record WHERE expires_at > ?'),
      findSent: db.prepare(
        'SELECT delivered, expires_at FROM sent_record WHERE sender = ? AND client_id = ? AND expires_at > ?',
      ),
    };
  }
}
