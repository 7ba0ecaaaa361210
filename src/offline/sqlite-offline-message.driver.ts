import Database from 'better-sqlite3';
import { accessSync, constants, existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { SqliteSynchronous } from '../config/app-config.js';
import { DEFAULT_INBOX_CACHE_MB } from '../config/config.constants.js';
import type { InboxWrite, SentRecord, StoredMessage, WriteResult } from './offline-message.store.js';
import { MAX_SENT_RECORDS, OfflineMessageStore } from './offline-message.store.js';
import { InboxCache, type UsageRow } from './inbox-cache.js';
import { PackedMessages, PackedSentRecords } from './packed-messages.js';
import { BUSY_TIMEOUT_MS, migrateSqliteSchema, SQLITE_WRITES } from './sqlite-schema.js';
import { SentLogIndex } from './sent-log-index.js';
import { type LoggedWrite, SqliteWriter } from './sqlite-writer.js';

/**
 * A peeked row as an array (the statement is `raw`): no object keyed by column name per row, which
 * costs about a third of a drain's read. Its last value is the body's size in UTF-8 bytes; a row
 * of a page read whole (`PAGE_SQL`) stops before it.
 */
type Row = [
  seq: number,
  id: string,
  sender: string,
  clientId: string | null,
  body: string,
  ts: number,
  expiresAt: number,
  bytes?: number,
];

/** Rows at or under the inbox's watermark were delivered: they await the writer's sweep, unread. */
const WATERMARK = 'ifnull((SELECT delivered_through FROM inbox_usage WHERE recipient = ?), 0)';

/** Parameters: recipient, afterSeq, recipient (its watermark), now, limit. */
const PEEK_WHERE = `WHERE recipient = ? AND seq > max(?, ${WATERMARK}) AND expires_at > ? ORDER BY seq LIMIT ?`;

/**
 * A page of an inbox as one JSON array of rows, built by SQLite: one string crosses into
 * JavaScript instead of seven values a row, and `JSON.parse` makes the rest. The page is read
 * only when the recipient's whole inbox (`inbox_usage.bytes`, kept with every write) fits the byte
 * budget, so it can never run past it; otherwise, or when there is no usage row, the result is
 * NULL and the cursor is stepped instead. One statement: the check and the page see one snapshot.
 * The parameters: recipient and maxBytes for the check, then those of `PEEK_WHERE`.
 */
const PAGE_SQL = `SELECT CASE WHEN (SELECT bytes FROM inbox_usage WHERE recipient = ?) <= ? THEN (
    SELECT json_group_array(json_array(seq, id, sender, client_id, body, ts, expires_at))
    FROM (SELECT seq, id, sender, client_id, body, ts, expires_at FROM inbox ${PEEK_WHERE})) END`;

/** The recipient is the one asked for: not read from each row, which saves a string per message. */
function toMessage(row: Row, to: string): StoredMessage {
  const [seq, id, from, clientId, body, ts, expiresAt] = row;
  if (clientId === null) return { id, seq, from, to, body, ts, expiresAt };
  return { id, seq, from, to, body, ts, expiresAt, clientId };
}

/** A page read whole, in seq order whatever order SQLite aggregated it in. */
function pageMessages(page: string, to: string): StoredMessage[] {
  const rows = JSON.parse(page) as Row[];
  const out = new Array<StoredMessage>(rows.length);
  let sorted = true;
  for (let i = 0; i < rows.length; i++) {
    out[i] = toMessage(rows[i]!, to);
    if (i > 0 && out[i]!.seq < out[i - 1]!.seq) sorted = false;
  }
  return sorted ? out : out.sort((a, b) => a.seq - b.seq);
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

/** Heap for inboxes kept in memory as written, unless configured (INBOX_CACHE_MB). */
export const DEFAULT_INBOX_CACHE_BYTES = DEFAULT_INBOX_CACHE_MB * 1024 * 1024;

/**
 * Inboxes in an embedded SQLite file (WAL). Writes go to a writer thread (`SqliteWriter`), reads
 * are served here from a second connection that sees every committed write, or from the inboxes
 * this store keeps in memory as it wrote them (`InboxCache`) while the file says nobody else
 * changed them. `synchronous=full` (default) makes every committed write survive power loss;
 * `normal` survives a process crash (`kill -9`) and fsyncs less.
 */
export class SqliteOfflineMessageDriver extends OfflineMessageStore {
  private db?: Database.Database;
  private statements?: ReturnType<SqliteOfflineMessageDriver['prepare']>;
  private writer?: SqliteWriter;
  /** Where each sent record is in `sent_log`, by (sender, client id). */
  private readonly sentIndex = new SentLogIndex(MAX_SENT_RECORDS / 2);
  /** Every row of `sent_log` up to this seq is in `sentIndex`. */
  private indexedSeq = 0;
  /** Sent records of writes handed to the writer thread and not answered yet. */
  private unansweredSent = 0;
  private readonly cache: InboxCache | undefined;

  constructor(
    private readonly path: string,
    private readonly synchronous: SqliteSynchronous = 'full',
    /** The sent log's cap, kept as records are appended; the purge's `maxSentRecords` applies too. */
    private readonly maxSentRecords = MAX_SENT_RECORDS,
    /** Heap bytes for inboxes kept in memory as written (`InboxCache`); 0 reads every page from the file. */
    inboxCacheBytes = DEFAULT_INBOX_CACHE_BYTES,
  ) {
    super();
    this.cache = inboxCacheBytes > 0 ? new InboxCache(inboxCacheBytes) : undefined;
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
    this.indexSentLog();
    this.writer = new SqliteWriter(this.path, this.synchronous, this.maxSentRecords);
  }

  async write(batch: InboxWrite): Promise<WriteResult> {
    const sent = PackedSentRecords.of(batch.sent);
    const append = PackedMessages.of(batch.append);
    this.unansweredSent += sent.length;
    try {
      const result = await this.opened().writer!.write({ ...batch, append, sent });
      this.indexWritten(sent, result);
      this.cache?.written(append, result.sizes, batch.remove, result);
      return { refused: result.refused };
    } finally {
      this.unansweredSent -= sent.length;
    }
  }

  /** The sent records of a committed write into the index, at the seqs the writer gave them. */
  private indexWritten(records: PackedSentRecords, { sentFirstSeq, sentSkipped }: LoggedWrite): void {
    let seq = sentFirstSeq;
    for (let i = 0, skip = 0; i < records.length; i++) {
      if (sentSkipped[skip] === i) {
        skip++;
        continue;
      }
      // Already read by `indexSentLog` when a lookup came between the commit and this answer.
      if (seq > this.indexedSeq) this.sentIndex.addHash(records.hashAt(i), seq);
      seq++;
    }
    this.indexedSeq = Math.max(this.indexedSeq, seq - 1);
  }

  /**
   * Before a lookup: indexes the rows another store on this file appended since, if any. Rows
   * past `indexedSeq` that may all be this store's own, committed and not answered yet, are left
   * to their answer: reading them here would read nearly every row twice under load.
   */
  private catchUpSentLog(): void {
    const last = (this.statements!.maxSentSeq.get() as { m: number | null }).m ?? 0;
    if (last - this.indexedSeq > this.unansweredSent) this.indexSentLog();
  }

  /** Indexes the rows of the log past `indexedSeq`: all of them when the store opens. */
  private indexSentLog(): void {
    const rows = this.statements!.sentAfter.iterate(this.indexedSeq) as IterableIterator<[number, string, string]>;
    for (const [seq, sender, clientId] of rows) {
      this.sentIndex.add(sender, clientId, seq);
      this.indexedSeq = seq;
    }
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
    const { peekPage, peek, usage } = this.opened().statements!;
    if (this.cache?.holds(recipient)) {
      const cached = this.cache.peek(
        recipient,
        usage.get(recipient) as UsageRow | undefined,
        now,
        limit,
        afterSeq,
        maxBytes,
      );
      if (cached !== undefined) return cached;
    }
    const page = peekPage.get(recipient, maxBytes, recipient, afterSeq, recipient, now, limit) as string | null;
    if (page !== null) return pageMessages(page, recipient);
    const out: StoredMessage[] = [];
    let bytes = 0;
    // Stepping the cursor stops reading as soon as the byte budget is spent.
    for (const row of peek.iterate(recipient, afterSeq, recipient, now, limit) as IterableIterator<Row>) {
      out.push(toMessage(row, recipient));
      bytes += row[7]!;
      if (bytes >= maxBytes) break;
    }
    return out;
  }

  async count(recipient: string, now: number): Promise<number> {
    const row = this.opened().statements!.count.get(recipient, recipient, now) as { n: number };
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
    const { sentAt } = this.opened().statements!;
    this.catchUpSentLog();
    // Newest first: the latest answer for the pair is the one that counts.
    for (const seq of this.sentIndex.candidates(sender, clientId)) {
      const row = sentAt.get(seq) as
        | [sender: string, clientId: string, delivered: number, expiresAt: number]
        | undefined;
      if (row === undefined || row[0] !== sender || row[1] !== clientId) continue;
      if (row[3] <= now) return undefined;
      return { sender, clientId, status: row[2] === 1 ? 'delivered' : 'queued', expiresAt: row[3] };
    }
    return undefined;
  }

  async purgeExpired(now: number, maxSentRecords = MAX_SENT_RECORDS): Promise<number> {
    const result = await this.opened().writer!.purge(now, maxSentRecords);
    this.cache?.purged(now, result);
    return result.purged;
  }

  async close(): Promise<void> {
    await this.writer?.close();
    this.writer = undefined;
    this.db?.close();
    this.db = undefined;
    this.cache?.clear();
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
        .prepare(`SELECT seq, id, sender, client_id, body, ts, expires_at, octet_length(body) FROM inbox ${PEEK_WHERE}`)
        .raw(true),
      peekPage: db.prepare(PAGE_SQL).pluck(),
      usage: db.prepare(SQLITE_WRITES.usage).raw(true),
      maxSeq: db.prepare('SELECT max(seq) AS m FROM inbox'),
      recipients: db.prepare('SELECT recipient FROM inbox_usage WHERE messages > 0 LIMIT ?'),
      count: db.prepare(
        `SELECT count(*) AS n FROM inbox WHERE recipient = ? AND seq > ${WATERMARK} AND expires_at > ?`,
      ),
      listSent: db.prepare('SELECT sender, client_id FROM sent_log WHERE expires_at > ?'),
      sentAfter: db.prepare('SELECT seq, sender, client_id FROM sent_log WHERE seq > ? ORDER BY seq').raw(true),
      maxSentSeq: db.prepare('SELECT max(seq) AS m FROM sent_log'),
      sentAt: db.prepare('SELECT sender, client_id, delivered, expires_at FROM sent_log WHERE seq = ?').raw(true),
    };
  }
}
