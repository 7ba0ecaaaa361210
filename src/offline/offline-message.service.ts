import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { GatewayMetrics } from '../metrics/gateway.metrics.js';
import type { ImMessage } from '../messages/im-message.js';
import { startInboxPurge, type Stoppable } from './inbox-purge.timer.js';
import { pairHash } from './fnv1a.js';
import { PackedMessages, PackedSentRecords } from './packed-messages.js';
import { SentFilter } from './sent-filter.js';
import {
  type DeliveredMessage,
  type InboxQuota,
  OfflineMessageStore,
  type SentRecord,
  type StoredMessage,
} from './offline-message.store.js';

/** Users with waiting messages kept in memory (~100 bytes each); beyond it every connect asks the store. */
const MAX_TRACKED_RECIPIENTS = 100_000;

/**
 * Writes nobody waits for (delivered records, removals of delivered messages) are committed at
 * most this long after they are made, with whatever comes meanwhile, instead of in the next turn.
 * A commit per turn under load holds ~150 delivered records and costs the writer ~6.8 µs of CPU
 * each; one per 20 ms holds over 1,000 at under 3 µs. A crash loses at most these 20 ms of them:
 * a resend of a message delivered in them is delivered again (the recipient's SDK drops the copy
 * by its id), and a removed message is delivered again.
 */
export const BACKGROUND_COMMIT_MS = 20;

/**
 * Writes (messages, removals, sent records) one transaction takes at most; a full batch is
 * committed at once, background writes included, and what comes while one commits beyond that
 * forms the next ones, queued in order. A batch of tens of thousands (a burst of offline
 * messages while a commit runs) grew arrays past V8's large-object size, each growth a fresh
 * allocation the kernel must page in, and the writer thread copied the whole batch through
 * several young-generation collections: a 50,000-message burst is stored 15-18% faster in
 * batches of this size. Still one commit, one fsync, per ~2,000 messages.
 */
export const MAX_BATCH_WRITES = 2_048;

/** After a failed write, the store is tried this often until it takes writes again. */
const WRITE_PROBE_INTERVAL_MS = 1_000;

/** The recipient's inbox is at INBOX_MAX_MESSAGES or INBOX_MAX_BYTES; the message was not stored. */
export class InboxFullError extends Error {
  constructor(quota: InboxQuota) {
    super(`recipient's inbox is full (${quota.maxMessages} messages or ${quota.maxBytes} bytes)`);
  }
}

interface PendingWrite {
  append: PackedMessages;
  remove: DeliveredMessage[];
  sent: PackedSentRecords;
  /** Ids of messages refused because the inbox was full. */
  refused: Set<string>;
  /** Recipients whose inbox `append` or `remove` changes: `inboxSettled` waits only for those. */
  recipients: Set<string>;
  /** Someone waits for it (a message to store, `flushed`): committed in the next turn, not in the background. */
  urgent: boolean;
  done: Promise<void>;
  resolve: () => void;
  reject: (error: unknown) => void;
}

function pendingWrite(): PendingWrite {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const done = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A plain-text sender has nobody to tell; the failure is logged where the batch is written.
  done.catch(() => undefined);
  return {
    append: new PackedMessages(),
    remove: [],
    sent: new PackedSentRecords(),
    refused: new Set(),
    recipients: new Set(),
    urgent: false,
    done,
    resolve,
    reject,
  };
}

/** Messages, removals and sent records a batch holds. */
function writesIn({ append, remove, sent }: PendingWrite): number {
  return append.length + remove.length + sent.length;
}

/**
 * The offline inbox as the rest of the gateway sees it. Writes made in the same event-loop turn
 * are committed together in one transaction (one fsync for a burst instead of one per message);
 * a caller's promise resolves only after the commit, so "stored" always means durable.
 */
@Injectable()
export class OfflineMessageService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(OfflineMessageService.name);
  private readonly ttlMs: number;
  private pending = pendingWrite();
  /** Full batches, oldest first, each committed in turn after the one in flight. */
  private readonly sealed: PendingWrite[] = [];
  private scheduled = false;
  /** Set while only background writes are pending: their commit, at most BACKGROUND_COMMIT_MS away. */
  private background: NodeJS.Timeout | undefined;
  /** The transaction being committed; at most one at a time. */
  private inFlight: Promise<void> | undefined;
  private committing: PendingWrite | undefined;
  private purgeTimer?: Stoppable;
  private opened = false;
  private readonly quota: InboxQuota;
  /** Set while writes fail (a full disk, say): health is red until a probe or a write succeeds. */
  private failing: { since: number; failures: number; probe: NodeJS.Timeout } | undefined;
  /**
   * A superset of the users with messages waiting (every enqueue adds its recipient at once), so a
   * connection of anyone else skips the inbox query. `undefined` when there were too many to keep.
   */
  private waitingFor: Set<string> | undefined;
  /**
   * A superset of the senders' client ids with a record, so a new client id skips the store's
   * read; `undefined` when the store cannot list its records or others write them (Redis).
   */
  private sentFilter: SentFilter | undefined;

  constructor(
    private readonly store: OfflineMessageStore,
    private readonly metrics: GatewayMetrics,
    config: AppConfig,
  ) {
    this.ttlMs = config.offline.ttlSeconds * 1000;
    this.quota = { maxMessages: config.limits.inboxMaxMessages, maxBytes: config.limits.inboxMaxBytes };
  }

  async onModuleInit(): Promise<void> {
    await this.store.open();
    await this.loadWaitingRecipients();
    await this.loadSentFilter();
    this.opened = true;
    // A failed purge (a locked or full disk) is retried next minute; it must never crash the process.
    this.purgeTimer = startInboxPurge(() =>
      this.purgeExpired().catch((error: unknown) => this.logger.warn(`Inbox purge failed: ${String(error)}`)),
    );
  }

  async onApplicationShutdown(): Promise<void> {
    this.purgeTimer?.stop();
    clearInterval(this.failing?.probe);
    await this.flushed();
    this.opened = false;
    await this.store.close();
  }

  /** Open and able to write: a failed write turns it false until the store takes writes again. */
  get isOpen(): boolean {
    return this.opened && this.store.isHealthy() && this.failing === undefined;
  }

  /**
   * Queues `message` for its recipient (with the sender's record, for a JSON sender) in one
   * atomic write; resolves once it is durable, rejects with `InboxFullError` if the inbox is at
   * its quota. A message that returns to the inbox (accepted earlier, never settled) keeps its
   * original place and expiry, and meets the same quota: nobody was told it was stored.
   */
  enqueue(message: ImMessage): Promise<void> {
    // The message and its record in the same batch: one transaction.
    const batch = this.open(message.clientId === undefined ? 1 : 2);
    this.append(message);
    if (message.clientId !== undefined) {
      this.writeSent(message.from, message.clientId, 'queued', message.ts + this.ttlMs);
    }
    return this.schedule().then(() => {
      if (batch.refused.has(message.id)) throw new InboxFullError(this.quota);
    });
  }

  /**
   * `enqueue` for a sender nobody answers (plain text): no promise per message; a refusal or a
   * failed write is counted and logged by the batch.
   */
  enqueueQuietly(message: ImMessage): void {
    this.open();
    this.append(message);
    this.schedule();
  }

  /** The batch `writes` more go to: a new one when the pending one has no room for them. */
  private open(writes = 1): PendingWrite {
    if (writesIn(this.pending) + writes > MAX_BATCH_WRITES) {
      this.sealed.push(this.pending);
      this.pending = pendingWrite();
      this.commitSoon();
    }
    return this.pending;
  }

  private append(message: ImMessage): void {
    this.noteWaiting(message.to);
    this.pending.recipients.add(message.to);
    this.pending.append.push(message, message.ts + this.ttlMs);
  }

  /** Removes a delivered message; resolves once the removal is durable. */
  remove(message: ImMessage): Promise<void> {
    this.open();
    // Copied: the batch keeps only what a removal needs. The body's size spares the SQLite writer
    // a read of the row for its inbox's usage: about a third of a removal's cost there.
    this.pending.recipients.add(message.to);
    this.pending.remove.push({
      to: message.to,
      seq: message.seq,
      id: message.id,
      bytes: Buffer.byteLength(message.body),
    });
    return this.scheduleBackground();
  }

  /**
   * Remembers what a JSON sender was told about `clientId` (after the answer, which does not wait
   * for it); resolves once durable, within BACKGROUND_COMMIT_MS.
   */
  recordSent(sender: string, clientId: string, status: SentRecord['status']): Promise<void> {
    const now = Date.now();
    this.open();
    this.writeSent(sender, clientId, status, now + this.ttlMs, now);
    return this.scheduleBackground();
  }

  /**
   * Every sent record goes through here: into the bitmap before it can be written, then the batch.
   * Its pair is hashed once, for the bitmap and for the SQLite driver's index of the log.
   */
  private writeSent(
    sender: string,
    clientId: string,
    status: SentRecord['status'],
    expiresAt: number,
    now = Date.now(),
  ): void {
    const hash = pairHash(sender, clientId);
    this.sentFilter?.addHash(hash, now);
    this.pending.sent.push(sender, clientId, status, expiresAt, hash);
  }

  /**
   * True while a `delivered` record of (sender, client id) is on its way to the store: requested
   * and not committed, so `findSent` cannot see it yet. Once the write is over it is either
   * committed (and found) or failed (and gone). Asked for each send `mayHaveSent` cannot call new
   * (every send, with the Redis store): a lookup in each batch not yet committed, nearly always
   * at most two.
   */
  isRecordingDelivered(sender: string, clientId: string): boolean {
    const hash = pairHash(sender, clientId);
    if (this.pending.sent.hasDelivered(sender, clientId, hash)) return true;
    if (this.committing?.sent.hasDelivered(sender, clientId, hash) === true) return true;
    for (const batch of this.sealed) if (batch.sent.hasDelivered(sender, clientId, hash)) return true;
    return false;
  }

  /** True when `mayHaveSent` can say no: a send with a new client id then needs no read. */
  get decidesNewAtOnce(): boolean {
    return this.sentFilter !== undefined;
  }

  /** False only when (sender, client id) certainly has no sent record: `findSent` would answer nothing. */
  mayHaveSent(sender: string, clientId: string): boolean {
    return this.sentFilter === undefined || this.sentFilter.mayHave(sender, clientId);
  }

  findSent(sender: string, clientId: string): Promise<SentRecord | undefined> {
    return this.store.findSent(sender, clientId, Date.now());
  }

  /** Resolves once every write requested so far is committed. */
  flushed(): Promise<void> {
    if (this.hasPending()) return this.schedule().catch(() => undefined);
    const last = this.sealed.at(-1);
    if (last !== undefined) return last.done.catch(() => undefined);
    return this.inFlight ?? Promise.resolve();
  }

  /**
   * Resolves once every change requested so far to `recipient`'s inbox is committed: what a
   * drain must see before it reads it, so that it finds every message stored for the user and
   * none already delivered. Other recipients' writes (other users' drains remove thousands of
   * rows) are not waited for.
   */
  inboxSettled(recipient: string): Promise<void> {
    if (this.pending.recipients.has(recipient)) return this.schedule().catch(() => undefined);
    for (let i = this.sealed.length - 1; i >= 0; i--) {
      if (this.sealed[i]!.recipients.has(recipient)) return this.sealed[i]!.done.catch(() => undefined);
    }
    if (this.committing?.recipients.has(recipient)) return this.inFlight!;
    return Promise.resolve();
  }

  /** The highest sequence number in the inbox. */
  maxSeq(): Promise<number> {
    return this.store.maxSeq();
  }

  /** False only when `recipient` certainly has no message waiting. */
  mayHaveMessages(recipient: string): boolean {
    return this.waitingFor === undefined || this.waitingFor.has(recipient);
  }

  /** A drain found nothing for `recipient`. */
  noteEmpty(recipient: string): void {
    this.waitingFor?.delete(recipient);
  }

  /** Unexpired messages for `recipient`, oldest first, after `afterSeq`, up to about `maxBytes` of bodies. */
  peek(recipient: string, limit: number, afterSeq?: number, maxBytes?: number): Promise<StoredMessage[]> {
    return this.store.peek(recipient, Date.now(), limit, afterSeq, maxBytes);
  }

  /** Unexpired messages waiting for `recipient`, once every write requested so far is committed. */
  async count(recipient: string): Promise<number> {
    await this.flushed();
    return this.store.count(recipient, Date.now());
  }

  async purgeExpired(now = Date.now()): Promise<number> {
    await this.flushed();
    const purged = await this.store.purgeExpired(now);
    if (this.waitingFor === undefined) await this.loadWaitingRecipients();
    if (purged > 0) {
      this.metrics.expiredMessages.inc(purged);
      this.logger.log(`Purged ${purged} expired offline messages`);
    }
    return purged;
  }

  private async loadWaitingRecipients(): Promise<void> {
    const recipients = await this.store.recipients(MAX_TRACKED_RECIPIENTS);
    if (recipients === undefined) {
      this.waitingFor = undefined;
      return;
    }
    // The store sees committed rows only: add what is being written or waits to be.
    const waiting = new Set(recipients);
    const writing = [...(this.committing === undefined ? [] : [this.committing]), ...this.sealed, this.pending];
    for (const { append } of writing) for (let i = 0; i < append.length; i++) waiting.add(append.recipientAt(i));
    this.waitingFor = waiting;
  }

  private async loadSentFilter(): Promise<void> {
    const now = Date.now();
    const filter = new SentFilter(this.ttlMs, now);
    const listed = await this.store.listSent(now, (sender, clientId) => filter.add(sender, clientId, now));
    this.sentFilter = listed ? filter : undefined;
  }

  private noteWaiting(recipient: string): void {
    if (this.waitingFor === undefined) return;
    this.waitingFor.add(recipient);
    if (this.waitingFor.size > MAX_TRACKED_RECIPIENTS) this.waitingFor = undefined;
  }

  private hasPending(): boolean {
    return writesIn(this.pending) > 0;
  }

  /** The pending write is committed in the next turn, or right after the ones before it. */
  private schedule(): Promise<void> {
    this.pending.urgent = true;
    this.commitSoon();
    return this.pending.done;
  }

  /** A commit in the next turn, unless one is in flight (the next follows it) or scheduled. */
  private commitSoon(): void {
    if (this.scheduled || this.inFlight !== undefined) return;
    this.scheduled = true;
    setImmediate(() => this.commit());
  }

  /** A write nobody waits for: committed with the next urgent one, or within BACKGROUND_COMMIT_MS. */
  private scheduleBackground(): Promise<void> {
    const { pending } = this;
    if (!pending.urgent && this.background === undefined && this.inFlight === undefined) {
      this.background = setTimeout(this.commitBackground, BACKGROUND_COMMIT_MS);
    }
    return pending.done;
  }

  private readonly commitBackground = (): void => {
    this.background = undefined;
    this.commit();
  };

  /**
   * Group commit: one transaction at a time, and everything requested while it commits (its
   * fsync included) forms the next one, so a slow disk means bigger batches, not a longer queue.
   */
  private commit(): void {
    this.scheduled = false;
    clearTimeout(this.background);
    this.background = undefined;
    if (this.inFlight !== undefined) return;
    let batch = this.sealed.shift();
    if (batch === undefined) {
      if (!this.hasPending()) return;
      batch = this.pending;
      this.pending = pendingWrite();
    }
    this.committing = batch;
    this.inFlight = this.writeBatch(batch).finally(() => {
      this.inFlight = undefined;
      this.committing = undefined;
      if (this.sealed.length > 0 || this.pending.urgent) this.commit();
      else if (this.hasPending()) this.scheduleBackground();
    });
  }

  private async writeBatch(batch: PendingWrite): Promise<void> {
    try {
      const { refused } = await this.store.write({
        append: batch.append,
        remove: batch.remove,
        sent: batch.sent,
        quota: this.quota,
      });
      this.writeSucceeded();
      this.metrics.inboxWrites.inc(batch.append.length - refused.length);
      if (refused.length > 0) this.refusedAtQuota(batch, refused);
      batch.resolve();
    } catch (error) {
      this.writeFailed(batch, error);
      batch.reject(error);
    }
  }

  /** Messages refused at the quota: a JSON sender hears INBOX_FULL; a plain-text one is counted and logged. */
  private refusedAtQuota(batch: PendingWrite, refused: readonly string[]): void {
    for (const id of refused) batch.refused.add(id);
    this.metrics.framesDropped.labels('inbox_full').inc(refused.length);
    let untold = 0;
    for (const m of batch.append) if (m.clientId === undefined && batch.refused.has(m.id)) untold++;
    if (untold > 0) this.logger.warn(`Dropped ${untold} plain-text messages: recipient's inbox is full`);
  }

  /**
   * The first failure of a run is logged with its cause and turns health red; the rest are only
   * counted, and summed up once writes work again. A probe write retries the store meanwhile, so
   * health comes back by itself even when no client is sending.
   */
  private writeFailed(batch: PendingWrite, error: unknown): void {
    if (this.failing !== undefined) {
      this.failing.failures++;
      return;
    }
    this.logger.error(
      `Offline store write failed (${batch.append.length} messages, ${batch.remove.length} removals, ${batch.sent.length} sent records): ${String(error)}; /health/ready answers 503 until writes succeed again`,
    );
    const probe = setInterval(() => {
      this.store.probe().then(
        () => this.writeSucceeded(),
        () => undefined,
      );
    }, WRITE_PROBE_INTERVAL_MS);
    probe.unref();
    this.failing = { since: Date.now(), failures: 1, probe };
  }

  private writeSucceeded(): void {
    if (this.failing === undefined) return;
    const { since, failures, probe } = this.failing;
    clearInterval(probe);
    this.failing = undefined;
    const seconds = ((Date.now() - since) / 1000).toFixed(1);
    this.logger.log(`Offline store takes writes again after ${failures} failed writes in ${seconds} s`);
  }
}
