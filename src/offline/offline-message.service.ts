import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { GatewayMetrics } from '../metrics/gateway.metrics.js';
import type { ImMessage } from '../routing/im-message.js';
import { startInboxPurge, type Stoppable } from './inbox-purge.timer.js';
import { OfflineMessageStore, type SentRecord, type StoredMessage } from './offline-message.store.js';

interface PendingWrite {
  append: StoredMessage[];
  remove: string[];
  sent: SentRecord[];
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
  return { append: [], remove: [], sent: [], done, resolve, reject };
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
  private writing: Promise<void> = Promise.resolve();
  private purgeTimer?: Stoppable;
  private opened = false;

  constructor(
    private readonly store: OfflineMessageStore,
    private readonly metrics: GatewayMetrics,
    config: AppConfig,
  ) {
    this.ttlMs = config.offline.ttlSeconds * 1000;
  }

  async onModuleInit(): Promise<void> {
    await this.store.open();
    this.opened = true;
    this.purgeTimer = startInboxPurge(() => this.purgeExpired());
  }

  async onApplicationShutdown(): Promise<void> {
    this.purgeTimer?.stop();
    await this.flushed();
    this.opened = false;
    await this.store.close();
  }

  get isOpen(): boolean {
    return this.opened;
  }

  /**
   * Queues `message` for its recipient (with the sender's record, for a JSON sender) in one
   * atomic write; resolves once it is durable.
   */
  enqueue(message: ImMessage): Promise<void> {
    this.pending.append.push({ ...message, expiresAt: message.ts + this.ttlMs });
    if (message.clientId !== undefined) {
      this.pending.sent.push({
        sender: message.from,
        clientId: message.clientId,
        messageId: message.id,
        status: 'queued',
        expiresAt: message.ts + this.ttlMs,
      });
    }
    this.metrics.inboxWrites.inc();
    return this.schedule();
  }

  /** Removes delivered messages; resolves once the removal is durable. */
  remove(ids: readonly string[]): Promise<void> {
    for (const id of ids) this.pending.remove.push(id);
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
    if (this.scheduled) return this.pending.done.catch(() => undefined);
    return this.writing;
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
    if (purged > 0) {
      this.metrics.expiredMessages.inc(purged);
      this.logger.log(`Purged ${purged} expired offline messages`);
    }
    return purged;
  }

  private schedule(): Promise<void> {
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.commit());
    }
    return this.pending.done;
  }

  private commit(): void {
    const batch = this.pending;
    this.pending = pendingWrite();
    this.scheduled = false;
    this.writing = this.writing.then(async () => {
      try {
        await this.store.write(batch);
        batch.resolve();
      } catch (error) {
        this.logger.error(
          `Offline store write failed (${batch.append.length} messages, ${batch.remove.length} removals, ${batch.sent.length} sent records): ${String(error)}`,
        );
        batch.reject(error);
      }
    });
  }
}
