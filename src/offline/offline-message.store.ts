import type { ImMessage } from '../messages/im-message.js';

/** A message at rest in an inbox, with the time after which it must never be delivered. */
export interface StoredMessage extends ImMessage {
  readonly expiresAt: number;
}

/**
 * What the gateway answered a JSON sender for one client id: kept for idempotent resends. The
 * message id is derived from (sender, client id), so it is not stored.
 */
export interface SentRecord {
  readonly sender: string;
  readonly clientId: string;
  readonly status: 'queued' | 'delivered';
  readonly expiresAt: number;
}

/** The most one recipient's inbox may hold; a message past either bound is refused, never an old one evicted. */
export interface InboxQuota {
  readonly maxMessages: number;
  /** UTF-8 bytes of the bodies. */
  readonly maxBytes: number;
}

/** A message to take out of its recipient's inbox; unknown ones are ignored. */
export interface DeliveredMessage {
  readonly to: string;
  readonly seq: number;
  readonly id: string;
  /**
   * Its body's size in UTF-8 bytes, when the caller knows it: a driver that keeps each inbox's
   * usage then takes it from here instead of reading the row before deleting it.
   */
  readonly bytes?: number;
}

/** One atomic change: everything in it is durable together, or none of it is. */
export interface InboxWrite {
  /**
   * Each checked against `quota` in order; a message already stored is never refused. The service
   * passes `PackedMessages`; any iterable of messages will do.
   */
  readonly append: Iterable<StoredMessage>;
  /**
   * Delivered messages. Each is named by its recipient too: a driver that keeps inboxes apart
   * (Redis, one hash tag per user) finds the message without an index over every inbox.
   */
  readonly remove: readonly DeliveredMessage[];
  /**
   * Inserted or, for an existing (sender, clientId), updated; dropped with its message if that was
   * refused. The service passes `PackedSentRecords`; any iterable of records will do.
   */
  readonly sent: Iterable<SentRecord>;
  /** No bound when absent. */
  readonly quota?: InboxQuota;
}

/** What a write did not store. */
export interface WriteResult {
  /** Ids of appended messages refused because their recipient's inbox was at its quota. */
  readonly refused: readonly string[];
}

/**
 * Sent records kept at most; past it the purge drops the oldest. A resend older
 * than that is routed again, and the recipient's SDK drops the copy by its message id.
 */
export const MAX_SENT_RECORDS = 1_000_000;

/**
 * Durable per-user inboxes ordered by `seq`, plus the sent records of JSON senders. Also the DI
 * token: inject `OfflineMessageStore`. Every driver passes `offline-message.store.contract.ts`.
 * Reads resolve in the order they were called.
 */
export abstract class OfflineMessageStore {
  /** Opens the backing storage; nothing else is called before it resolves. */
  abstract open(): Promise<void>;
  /**
   * Applies the write atomically, quota checks included (the store keeps each recipient's usage,
   * so no check reads a whole inbox); on resolve it survives a process crash.
   */
  abstract write(batch: InboxWrite): Promise<WriteResult>;
  /**
   * Up to `limit` unexpired messages of `recipient` with `seq > afterSeq`, oldest first, stopping
   * once their bodies reach `maxBytes` (at least one message is always answered).
   */
  abstract peek(
    recipient: string,
    now: number,
    limit: number,
    afterSeq?: number,
    maxBytes?: number,
  ): Promise<StoredMessage[]>;
  /** How many unexpired messages wait for `recipient` (reads the inbox: for tests and tools, not per message). */
  abstract count(recipient: string, now: number): Promise<number>;
  /** The unexpired sent record of (sender, clientId), if any. */
  abstract findSent(sender: string, clientId: string, now: number): Promise<SentRecord | undefined>;
  /**
   * Calls `visit` with every unexpired sent record's sender and client id and answers true, or
   * answers false at once when the driver cannot list them or is not their only writer (Redis):
   * the service then reads the store for every client id.
   */
  abstract listSent(now: number, visit: (sender: string, clientId: string) => void): Promise<boolean>;
  /** The highest `seq` stored (0 when empty): new messages are numbered above it. */
  abstract maxSeq(): Promise<number>;
  /**
   * Every user with a message waiting, or `undefined` when there are more than `limit` or the
   * driver keeps no such list (Redis): the service then asks the inbox on every connect.
   */
  abstract recipients(limit: number): Promise<string[] | undefined>;
  /**
   * Deletes every message and sent record expired at `now`, and the sent records beyond
   * `maxSentRecords` that expire first; answers how many messages.
   */
  abstract purgeExpired(now: number, maxSentRecords?: number): Promise<number>;
  /** Writes a few bytes durably: proves, after a failed write, that the storage takes writes again. */
  abstract probe(): Promise<void>;
  abstract close(): Promise<void>;
  /** False once the storage failed for good (a writer thread died, say): health checks turn red. */
  isHealthy(): boolean {
    return true;
  }
}
