import type { ImMessage } from '../routing/im-message.js';

/** A message at rest in an inbox, with the time after which it must never be delivered. */
export interface StoredMessage extends ImMessage {
  readonly expiresAt: number;
}

/** What the gateway answered a JSON sender for one client message id: kept for idempotent resends. */
export interface SentRecord {
  readonly sender: string;
  readonly clientId: string;
  readonly messageId: string;
  readonly status: 'queued' | 'delivered';
  readonly expiresAt: number;
}

/** One atomic change: everything in it is durable together, or none of it is. */
export interface InboxWrite {
  readonly append: readonly StoredMessage[];
  /** `seq` of each delivered message. */
  readonly remove: readonly number[];
  /** Inserted or, for an existing (sender, clientId), updated. */
  readonly sent: readonly SentRecord[];
}

/**
 * Durable per-user inboxes ordered by `seq`, plus the sent records of JSON senders. Also the DI
 * token: inject `OfflineMessageStore`. Every driver passes `offline-message.store.contract.ts`.
 * Reads resolve in the order they were called.
 */
export abstract class OfflineMessageStore {
  /** Opens the backing storage; nothing else is called before it resolves. */
  abstract open(): Promise<void>;
  /** Applies the write atomically; on resolve it survives a process crash. */
  abstract write(batch: InboxWrite): Promise<void>;
  /** Up to `limit` unexpired messages of `recipient` with `seq > afterSeq`, oldest first. */
  abstract peek(recipient: string, now: number, limit: number, afterSeq?: number): Promise<StoredMessage[]>;
  /** How many unexpired messages wait for `recipient`. */
  abstract count(recipient: string, now: number): Promise<number>;
  /** The unexpired sent record of (sender, clientId), if any. */
  abstract findSent(sender: string, clientId: string, now: number): Promise<SentRecord | undefined>;
  /** The highest `seq` stored (0 when empty): new messages are numbered above it. */
  abstract maxSeq(): Promise<number>;
  /** Every user with a message waiting, or `undefined` when there are more than `limit`. */
  abstract recipients(limit: number): Promise<string[] | undefined>;
  /** Deletes every message and sent record expired at `now`; answers how many messages. */
  abstract purgeExpired(now: number): Promise<number>;
  abstract close(): Promise<void>;
  /** False once the storage failed for good (a writer thread died, say): health checks turn red. */
  isHealthy(): boolean {
    return true;
  }
}
