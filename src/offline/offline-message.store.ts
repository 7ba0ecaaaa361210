import type { ImMessage } from '../routing/im-message.js';

/** A message at rest in an inbox, with the time after which it must never be delivered. */
export interface StoredMessage extends ImMessage {
  readonly expiresAt: number;
}

/** One atomic change to the inbox: everything in it is durable together, or none of it is. */
export interface InboxWrite {
  readonly append: readonly StoredMessage[];
  readonly remove: readonly string[];
}

/**
 * Durable per-user inboxes, ordered by `seq`. Also the DI token: inject `OfflineMessageStore`.
 * Every driver passes `offline-message.store.contract.ts`.
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
  /** Deletes every message expired at `now`; answers how many. */
  abstract purgeExpired(now: number): Promise<number>;
  abstract close(): Promise<void>;
}
