import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { GatewayMetrics } from '../metrics/gateway.metrics.js';
import type { ImMessage } from '../routing/im-message.js';
import { startInboxPurge, type Stoppable } from './inbox-purge.timer.js';
import { OfflineMessageStore, type SentRecord, type StoredMessage } from './offline-message.store.js';

/** Users with waiting messages kept in memory (~100 bytes each); beyond it every connect asks the store. */
const MAX_TRACKED_RECIPIENTS = 100_000;

/** The recipient's inbox already holds INBOX_MAX_MESSAGES; the message was not stored. */
export class InboxFullError extends Error {
  constructor(recipient: string, limit: number) {
    super(`inbox of ${recipient} is full (${limit} messages)`);
  }
}

interface Appended {
  readonly message: StoredMessage;
  /** Counts against INBOX_MAX_MESSAGES; messages returned to the inbox were admitted before. */
  readonly admit: boolean;
}

interface PendingWrite {
  append: Appended[];
  remove: Array<{ readonly seq: number; readonly to: string }>;
  sent: SentRecord[];
  /** Ids of messages refused because the inbox was full. */
  refused: Set<string>;
  done: Promise<void>;
  resolve: () => void;
  reject: (error: unknown) => void;
}

function pendingWrite(): PendingWrite {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const done = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  // A plain-text sender has nobody to tell; the failure is logged where the batch is written.
  done.catch(() => undefined);
  return { append: [], remove: [], sent: [], refused: new Set(), done, resolve, reject };
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
  private scheduled = false;
  /** The transaction being committed; at most one at a time. */
  private inFlight: Promise<void> | undefined;
  private committing: PendingWrite | undefined;
  private purgeTimer?: Stoppable;
  private opened = false;
  private readonly inboxMax: number;
  /** Inbox sizes of recipients seen lately, so INBOX_MAX_MESSAGES costs no query per message. */
  private readonly inboxSizes = new Map<string, number>();
  /**
   * A superset of the users with messages waiting (every enqueue adds its recipient at once), so a
   * connection of anyone else skips the inbox query. `undefined` when there were too many to keep.
   */
  private waitingFor: Set<string> | undefined;

  constructor(
    private readonly store: OfflineMessageStore,
    private readonly metrics: GatewayMetrics,
    config: AppConfig,
  ) {
    this.ttlMs = config.offline.ttlSeconds * 1000;
    this.inboxMax = config.limits.inboxMaxMessages;
  }

  async onModuleInit(): Promise<void> {
    await this.store.open();
    await this.loadWaitingRecipients();
    this.opened = true;
    // A failed purge (a locked or full disk) is retried next minute; it must never crash the process.
    this.purgeTimer = startInboxPurge(() =>
      this.purgeExpired().catch((error: unknown) => this.logger.warn(`Inbox purge failed: ${String(error)}`)),
    );
  }

  async onApplicationShutdown(): Promise<void> {
    this.purgeTimer?.stop();
    await this.flushed();
    this.opened = false;
    await this.store.close();
  }

  /** Open and able to write. */
  get isOpen(): boolean {
    return this.opened && this.store.isHealthy();
  }

  /**
   * Queues `message` for its recipient (with the sender's record, for a JSON sender) in one
   * atomic write; resolves once it is durable, rejects with `InboxFullError` if the inbox is
   * full. `returning` marks a message accepted earlier that goes back to the inbox: it is never
   * refused, and keeps its original place and expiry.
   */
  enqueue(message: ImMessage, returning = false): Promise<void> {
    const batch = this.pending;
    this.append(message, returning);
    if (message.clientId !== undefined) {
      this.pending.sent.push({
        sender: message.from,
        clientId: message.clientId,
        messageId: message.id,
        status: 'queued',
        expiresAt: message.ts + this.ttlMs,
      });
    }
    return this.schedule().then(() => {
      if (batch.refused.has(message.id)) throw new InboxFullError(message.to, this.inboxMax);
    });
  }

  /**
   * `enqueue` for a sender nobody answers (plain text): no promise per message; a refusal or a
   * failed write is counted and logged by the batch.
   */
  enqueueQuietly(message: ImMessage, returning = false): void {
    this.append(message, returning);
    this.schedule();
  }

  private append(message: ImMessage, returning: boolean): void {
    this.noteWaiting(message.to);
    this.pending.append.push({ message: { ...message, expiresAt: message.ts + this.ttlMs }, admit: !returning });
  }

  /** Removes a delivered message; resolves once the removal is durable. */
  remove(message: { readonly seq: number; readonly to: string }): Promise<void> {
    this.pending.remove.push(message);
    return this.schedule();
  }

  /** Remembers what a JSON sender was told about `clientId`; resolves once durable. */
  recordSent(sender: string, clientId: string, messageId: string, status: SentRecord['status']): Promise<void> {
    this.pending.sent.push({ sender, clientId, messageId, status, expiresAt: Date.now() + this.ttlMs });
    return this.schedule();
  }

  findSent(sender: string, clientId: string): Promise<SentRecord | undefined> {
    return this.store.findSent(sender, clientId, Date.now());
  }

  /** Resolves once every write requested so far is committed. */
  flushed(): Promise<void> {
    if (this.hasPending()) return this.pending.done.catch(() => undefined);
    return this.inFlight ?? Promise.resolve();
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

  /** Unexpired messages for `recipient`, oldest first, after `afterSeq`. */
  peek(recipient: string, limit: number, afterSeq?: number): Promise<StoredMessage[]> {
    return this.store.peek(recipient, Date.now(), limit, afterSeq);
  }

  count(recipient: string): Promise<number> {
    return this.store.count(recipient, Date.now());
  }

  async purgeExpired(now = Date.now()): Promise<number> {
    await this.flushed();
    const purged = await this.store.purgeExpired(now);
    this.inboxSizes.clear();
    if (this.waitingFor === undefined) await this.loadWaitingRecipients();
    if (purged > 0) {
      this.metrics.expiredMessages.inc(purged);
      this.logger.log(`Purged ${purged} expired offline messages`);
    }
    return purged;
  }

  /** Applies INBOX_MAX_MESSAGES: old messages are never evicted, new ones past the limit are refused. */
  private async admit(batch: PendingWrite): Promise<StoredMessage[]> {
    const admitted: StoredMessage[] = [];
    const now = Date.now();
    for (const { message, admit } of batch.append) {
      let size = this.inboxSizes.get(message.to);
      if (size === undefined) size = await this.store.count(message.to, now);
      if (admit && size >= this.inboxMax) {
        batch.refused.add(message.id);
        batch.sent = batch.sent.filter((r) => r.messageId !== message.id);
        this.metrics.framesDropped.labels('inbox_full').inc();
        continue;
      }
      this.inboxSizes.set(message.to, size + 1);
      admitted.push(message);
    }
    return admitted;
  }

  private async loadWaitingRecipients(): Promise<void> {
    const recipients = await this.store.recipients(MAX_TRACKED_RECIPIENTS);
    if (recipients === undefined) {
      this.waitingFor = undefined;
      return;
    }
    // The store sees committed rows only: add what is being written or waits to be.
    const waiting = new Set(recipients);
    for (const { message } of [...(this.committing?.append ?? []), ...this.pending.append]) waiting.add(message.to);
    this.waitingFor = waiting;
  }

  private noteWaiting(recipient: string): void {
    if (this.waitingFor === undefined) return;
    this.waitingFor.add(recipient);
    if (this.waitingFor.size > MAX_TRACKED_RECIPIENTS) this.waitingFor = undefined;
  }

  private hasPending(): boolean {
    const { append, remove, sent } = this.pending;
    return append.length + remove.length + sent.length > 0;
  }

  private schedule(): Promise<void> {
    if (!this.scheduled && this.inFlight === undefined) {
      this.scheduled = true;
      setImmediate(() => this.commit());
    }
    return this.pending.done;
  }

  /**
   * Group commit: one transaction at a time, and everything requested while it commits (its
   * fsync included) forms the next one, so a slow disk means bigger batches, not a longer queue.
   */
  private commit(): void {
    this.scheduled = false;
    if (this.inFlight !== undefined || !this.hasPending()) return;
    const batch = this.pending;
    this.pending = pendingWrite();
    this.committing = batch;
    this.inFlight = this.writeBatch(batch).finally(() => {
      this.inFlight = undefined;
      this.committing = undefined;
      if (this.hasPending()) this.commit();
    });
  }

  private async writeBatch(batch: PendingWrite): Promise<void> {
    try {
      const append = await this.admit(batch);
      await this.store.write({ append, remove: batch.remove.map((m) => m.seq), sent: batch.sent });
      this.metrics.inboxWrites.inc(append.length);
      for (const { to } of batch.remove) {
        const size = this.inboxSizes.get(to);
        if (size !== undefined) this.inboxSizes.set(to, Math.max(0, size - 1));
      }
      batch.resolve();
    } catch (error) {
      this.logger.error(
        `Offline store write failed (${batch.append.length} messages, ${batch.remove.length} removals, ${batch.sent.length} sent records): ${String(error)}`,
      );
      batch.reject(error);
    }
  }
}
