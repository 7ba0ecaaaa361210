import { Logger } from '@nestjs/common';
import type { ChainableCommander, Redis } from 'ioredis';
import { CONNECT_TIMEOUT_MS, connectRedis, watchRedis, whenReady } from '../redis/redis-connection.js';
import { persistenceWarnings, readPersistence } from '../redis/redis-persistence.check.js';
import type { DeliveredMessage, InboxWrite, SentRecord, StoredMessage, WriteResult } from './offline-message.store.js';
import { OfflineMessageStore } from './offline-message.store.js';
import {
  INBOX_PEEK_SCRIPT,
  INBOX_TRIM_SCRIPT,
  INBOX_WRITE_SCRIPT,
  RAISE_MAX_SEQ_SCRIPT,
} from './redis-inbox.scripts.js';

/** Keys a purge asks SCAN for per step: big enough for few round trips, small enough not to stall Redis. */
const PURGE_SCAN_COUNT = 1_000;
/** Expired messages one purge script deletes; an inbox with more is trimmed again. */
const PURGE_TRIM_LIMIT = 1_000;
/** The probe key lives this long: proof of a write, not something to keep. */
const PROBE_TTL_MS = 10_000;

/** The scripts, as `defineCommand` adds them to the client and its pipelines (EVALSHA). */
interface InboxCommands {
  imInboxWrite(inKey: string, exp: string, msg: string, use: string, ...args: Array<string | number>): unknown;
  imInboxTrim(inKey: string, exp: string, msg: string, use: string, now: number, limit: number): unknown;
  imInboxPeek(
    inKey: string,
    exp: string,
    msg: string,
    now: number,
    limit: number,
    afterSeq: number,
    maxBytes: number,
  ): Promise<string[]>;
  imRaiseMaxSeq(key: string, seq: number): unknown;
}
type InboxClient = Redis & InboxCommands;
type InboxPipeline = ChainableCommander & InboxCommands;

/**
 * `%`, `{` and `}` escaped: a user id or client id may hold any of them, and a key must keep its
 * one hash tag (the first `{...}`) and never read as another user's key or match another pattern.
 */
const escapeKeyPart = (part: string): string =>
  part.replace(/[%{}]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** A key prefix as a literal in a SCAN MATCH pattern. */
const escapeGlob = (text: string): string => text.replace(/[*?[\]\\]/g, '\\$&');

/** What the inbox keeps of a message: exactly the `StoredMessage` fields, whatever else the object holds. */
function storedValue(m: StoredMessage, bytes: number): string {
  const { id, seq, from, to, body, ts, expiresAt, clientId } = m;
  return `${bytes} ${JSON.stringify({ id, seq, from, to, body, ts, expiresAt, clientId })}`;
}

function parseStored(value: string): StoredMessage {
  return JSON.parse(value.slice(value.indexOf(' ') + 1)) as StoredMessage;
}

/** A user's own messages and removals in one write. */
interface RecipientWrite {
  append: StoredMessage[];
  remove: DeliveredMessage[];
}

/**
 * Inboxes in Redis, shared by every gateway process of a cluster. A user's keys share one hash
 * tag, `<prefix>{<user>}:in|exp|msg|use` (see `redis-inbox.scripts.ts`), so one Lua script per
 * recipient applies a write atomically and Redis Cluster can run it. A sender's records are
 * `<prefix>{<sender>}:sent:<clientId>`, strings that expire with the record (PXAT).
 *
 * Every key expires (PEXPIREAT the latest expiry it holds), so after the TTL Redis is back to
 * its baseline with or without a purge; only `<prefix>maxseq` stays, one small key.
 *
 * Atomic per recipient, not per batch: one batch spans users in different slots. A batch that
 * fails halfway rejects as a whole, and what it did apply is safe to apply again: an append is
 * deduplicated by message id, a removal of a removed message does nothing, and a resent message
 * gets the same id. Durable as Redis is configured to be (AOF `appendfsync`).
 *
 * One connection serves every command, so reads resolve in call order. While Redis is away a
 * command fails at once instead of queueing (a send gets a retryable error now, not after the
 * outage), and the client reconnects by itself.
 */
export class RedisOfflineMessageDriver extends OfflineMessageStore {
  private readonly logger = new Logger(RedisOfflineMessageDriver.name);
  private client: InboxClient | undefined;
  private closed = false;
  /** Settles after the last read called: the next read resolves after it (see `inOrder`). */
  private lastRead: Promise<unknown> = Promise.resolve();
  constructor(
    private readonly url: string,
    private readonly keyPrefix: string,
    private readonly connectTimeoutMs = CONNECT_TIMEOUT_MS,
  ) {
    super();
  }

  async open(): Promise<void> {
    const client = connectRedis(this.url, 'im-gateway-inbox') as InboxClient;
    client.defineCommand('imInboxWrite', { numberOfKeys: 4, lua: INBOX_WRITE_SCRIPT });
    client.defineCommand('imInboxTrim', { numberOfKeys: 4, lua: INBOX_TRIM_SCRIPT });
    client.defineCommand('imInboxPeek', { numberOfKeys: 3, lua: INBOX_PEEK_SCRIPT, readOnly: true });
    client.defineCommand('imRaiseMaxSeq', { numberOfKeys: 1, lua: RAISE_MAX_SEQ_SCRIPT });
    await whenReady(client, this.url, 'Offline inbox (OFFLINE_STORE=redis)', this.connectTimeoutMs);
    watchRedis(client, 'Offline inbox', this.logger);
    // Whether an acknowledged message survives a Redis restart is Redis's to say: the boot says it.
    for (const warning of persistenceWarnings(await readPersistence(client))) this.logger.warn(warning);
    this.client = client;
  }

  async write({ append, remove, sent, quota }: InboxWrite): Promise<WriteResult> {
    const client = this.opened();
    const byRecipient = new Map<string, RecipientWrite>();
    const of = (to: string): RecipientWrite => {
      let w = byRecipient.get(to);
      if (w === undefined) {
        w = { append: [], remove: [] };
        byRecipient.set(to, w);
      }
      return w;
    };
    for (const m of remove) of(m.to).remove.push(m);
    let maxSeq = 0;
    // A record whose message is in this batch waits for the appends' answers: one refused at the
    // quota must not be recorded, or a resend would be told it was queued. The others go now.
    const tied = new Set<string>();
    // One pass: a packed batch builds each message anew every time it is iterated.
    for (const m of append) {
      of(m.to).append.push(m);
      if (m.seq > maxSeq) maxSeq = m.seq;
      if (m.clientId !== undefined) tied.add(this.sentKey(m.from, m.clientId));
    }
    const now = Date.now();
    const pipeline = client.pipeline() as InboxPipeline;
    for (const [to, w] of byRecipient) {
      const args: Array<string | number> = [now, quota?.maxMessages ?? -1, quota?.maxBytes ?? -1, w.remove.length];
      for (const m of w.remove) args.push(m.id);
      for (const m of w.append) {
        const bytes = Buffer.byteLength(m.body);
        args.push(m.id, m.seq, m.expiresAt, bytes, storedValue(m, bytes));
      }
      pipeline.imInboxWrite(...this.inboxKeys(to), ...args);
    }
    if (maxSeq > 0) pipeline.imRaiseMaxSeq(this.maxSeqKey(), maxSeq);
    const later: SentRecord[] = [];
    for (const record of sent) {
      if (tied.has(this.sentKey(record.sender, record.clientId))) later.push(record);
      else this.setSent(pipeline, record);
    }
    const replies = pipeline.length > 0 ? await execute(pipeline) : [];
    const refused: string[] = [];
    for (let i = 0; i < byRecipient.size; i++) refused.push(...(replies[i] as string[]));
    if (later.length === 0) return { refused };
    // Written after the appends: a crash between leaves a stored message without its record, and
    // a resend then gets the same message id, which the inbox keeps once (deduplicated by id).
    const dropped = new Set(refused);
    const refusedKeys = new Set<string>();
    for (const m of append) {
      if (m.clientId !== undefined && dropped.has(m.id)) refusedKeys.add(this.sentKey(m.from, m.clientId));
    }
    const records = client.pipeline();
    let kept = 0;
    for (const record of later) {
      if (refusedKeys.has(this.sentKey(record.sender, record.clientId))) continue;
      this.setSent(records, record);
      kept++;
    }
    if (kept > 0) await execute(records);
    return { refused };
  }

  async peek(
    recipient: string,
    now: number,
    limit: number,
    afterSeq = -1,
    maxBytes = Infinity,
  ): Promise<StoredMessage[]> {
    const [inKey, exp, msg] = this.inboxKeys(recipient);
    const bound = Number.isFinite(maxBytes) ? Math.max(0, maxBytes) : -1;
    const values = this.opened().imInboxPeek(inKey, exp, msg, now, limit, afterSeq, bound);
    return this.inOrder(values.then((v) => v.map(parseStored)));
  }

  count(recipient: string, now: number): Promise<number> {
    return this.inOrder(this.opened().zcount(this.inboxKeys(recipient)[1], `(${now}`, '+inf'));
  }

  findSent(sender: string, clientId: string, now: number): Promise<SentRecord | undefined> {
    const value = this.opened().get(this.sentKey(sender, clientId));
    return this.inOrder(
      value.then((v) => {
        if (v === null) return undefined;
        const { status, expiresAt } = JSON.parse(v) as Pick<SentRecord, 'status' | 'expiresAt'>;
        return expiresAt > now ? { sender, clientId, status, expiresAt } : undefined;
      }),
    );
  }

  /** The highest seq ever stored, which numbering above needs; it is not lowered when messages go. */
  maxSeq(): Promise<number> {
    return this.inOrder(
      this.opened()
        .get(this.maxSeqKey())
        .then((v) => Number(v ?? 0)),
    );
  }

  /**
   * Always `undefined`: no cheap list of the users with messages exists across a cluster, so the
   * service asks the inbox on every connect instead of trusting a per-process list.
   */
  async recipients(_limit: number): Promise<string[] | undefined> {
    return undefined;
  }

  /** Always false: every node of a cluster writes sent records, so no process can list them all. */
  async listSent(_now: number, _visit: (sender: string, clientId: string) => void): Promise<boolean> {
    return false;
  }

  /**
   * Trims the expired messages of every inbox (SCAN, so Redis keeps serving meanwhile); answers
   * how many. Sent records are not touched, and `maxSentRecords` does not apply: each expires on
   * its own (PXAT), so their number is bounded by what one TTL of sends leaves.
   */
  async purgeExpired(now: number, _maxSentRecords?: number): Promise<number> {
    const client = this.opened();
    const stream = client.scanStream({ match: `${escapeGlob(this.keyPrefix)}{*}:in`, count: PURGE_SCAN_COUNT });
    let purged = 0;
    for await (const keys of stream as AsyncIterable<string[]>) {
      let pending = keys;
      while (pending.length > 0) {
        const pipeline = client.pipeline() as InboxPipeline;
        for (const inKey of pending) {
          const base = inKey.slice(0, -'in'.length);
          pipeline.imInboxTrim(inKey, `${base}exp`, `${base}msg`, `${base}use`, now, PURGE_TRIM_LIMIT);
        }
        const trimmed = (await execute(pipeline)) as number[];
        purged += trimmed.reduce((sum, n) => sum + n, 0);
        // An inbox trimmed to the limit may hold more expired messages: trim it again.
        pending = pending.filter((_, i) => trimmed[i] === PURGE_TRIM_LIMIT);
      }
    }
    return purged;
  }

  async probe(): Promise<void> {
    await this.opened().set(`${this.keyPrefix}probe`, String(Date.now()), 'PX', PROBE_TTL_MS);
  }

  async close(): Promise<void> {
    const client = this.client;
    this.closed = true;
    this.client = undefined;
    if (client === undefined) return;
    try {
      await client.quit();
    } catch {
      // Redis is away: nothing to say goodbye to.
      client.disconnect();
    }
  }

  /** False once closed; a lost connection is a failed write (and a probe), not a dead store. */
  override isHealthy(): boolean {
    return !this.closed;
  }

  /**
   * Redis answers one connection's commands in order, but replies that arrive in one chunk
   * settle in the same tick, where a read with fewer steps after its reply would overtake one
   * called before it. Each read settles only after the one before it.
   */
  private inOrder<T>(read: Promise<T>): Promise<T> {
    // Handled here too: a read that fails before its turn is not an unhandled rejection meanwhile.
    read.catch(() => undefined);
    const ordered = this.lastRead.then(() => read);
    this.lastRead = ordered.catch(() => undefined);
    return ordered;
  }

  private opened(): InboxClient {
    if (this.client === undefined) throw new Error('Redis offline store is not open');
    return this.client;
  }

  /** `in`, `exp`, `msg`, `use` of one user, in the order the scripts take them. */
  private inboxKeys(user: string): [string, string, string, string] {
    const base = `${this.keyPrefix}{${escapeKeyPart(user)}}:`;
    return [`${base}in`, `${base}exp`, `${base}msg`, `${base}use`];
  }

  private sentKey(sender: string, clientId: string): string {
    return `${this.keyPrefix}{${escapeKeyPart(sender)}}:sent:${escapeKeyPart(clientId)}`;
  }

  private maxSeqKey(): string {
    return `${this.keyPrefix}maxseq`;
  }

  private setSent(pipeline: ChainableCommander, record: SentRecord): void {
    const value = JSON.stringify({ status: record.status, expiresAt: record.expiresAt });
    pipeline.set(this.sentKey(record.sender, record.clientId), value, 'PXAT', record.expiresAt);
  }
}

/** Runs `pipeline`; answers every reply, or throws the first error once every reply is in. */
async function execute(pipeline: ChainableCommander): Promise<unknown[]> {
  const replies = await pipeline.exec();
  if (replies === null) throw new Error('Redis pipeline was discarded');
  return replies.map(([error, reply]) => {
    if (error) throw error;
    return reply;
  });
}
