import { MemoryOfflineMessageDriver } from '../../src/offline/memory-offline-message.driver.js';
import type { InboxWrite, SentRecord, StoredMessage, WriteResult } from '../../src/offline/offline-message.store.js';

/**
 * The memory inbox with faults a test turns on; injected with
 * `overrideProvider(OfflineMessageStore).useValue(store)`. A fault shows only through the store's
 * contract, so the gateway meets it the way it meets a real storage failure.
 */
export class FaultyOfflineStore extends MemoryOfflineMessageDriver {
  private death: Error | undefined;
  private readonly lookupFailures: Error[] = [];
  private readonly peekFailures: Error[] = [];

  /**
   * From now on the store fails the way the SQLite driver does once its writer thread is gone:
   * every write, purge and probe rejects and `isHealthy()` is false for good, while reads still
   * answer (they never went through that thread).
   */
  die(): void {
    this.death = new Error('offline storage writer is gone');
  }

  /** The next `findSent` rejects with `error`, as a read does on a disk I/O error; the ones after it answer. */
  failNextLookup(error: Error): void {
    this.lookupFailures.push(error);
  }

  /** The next `peek` (an inbox read for a drain) rejects with `error`; the ones after it answer. */
  failNextPeek(error: Error): void {
    this.peekFailures.push(error);
  }

  override async peek(
    recipient: string,
    now: number,
    limit: number,
    afterSeq?: number,
    maxBytes?: number,
  ): Promise<StoredMessage[]> {
    const failure = this.peekFailures.shift();
    if (failure) throw failure;
    return super.peek(recipient, now, limit, afterSeq, maxBytes);
  }

  override async write(batch: InboxWrite): Promise<WriteResult> {
    if (this.death) throw this.death;
    return super.write(batch);
  }

  override async purgeExpired(now: number, maxSentRecords?: number): Promise<number> {
    if (this.death) throw this.death;
    return super.purgeExpired(now, maxSentRecords);
  }

  override async probe(): Promise<void> {
    if (this.death) throw this.death;
  }

  override isHealthy(): boolean {
    return this.death === undefined;
  }

  /**
   * Not listed: the service then reads the store for every client id, new ones included, so a
   * lookup failure can be injected on any send, as with a store shared by a cluster.
   */
  override async listSent(): Promise<boolean> {
    return false;
  }

  override async findSent(sender: string, clientId: string, now: number): Promise<SentRecord | undefined> {
    const failure = this.lookupFailures.shift();
    if (failure) throw failure;
    return super.findSent(sender, clientId, now);
  }
}
