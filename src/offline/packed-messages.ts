import { pairHash } from './fnv1a.js';
import type { ImMessage } from '../messages/im-message.js';
import type { SentRecord, StoredMessage } from './offline-message.store.js';

/** Per message in `PackedMessages.strings`: id, to, from, client id (or null), body. */
export const PACKED_STRINGS = 5;
/** Per message in `PackedMessages.numbers`: seq, ts, expiresAt. */
export const PACKED_NUMBERS = 3;

/**
 * Messages on their way into the inbox, kept as two flat arrays of their fields rather than an
 * object each. A burst waits here for its group commit, long enough to outlive a young-generation
 * collection: an object and three boxed numbers per message would be copied by each one, while
 * the numbers here sit unboxed in one array. The SQLite writer thread gets both arrays as they
 * are (a structured clone copies a list much faster than objects); other drivers iterate messages.
 */
export class PackedMessages implements Iterable<StoredMessage> {
  // Both built by push, never `new Array(n)`: a holey array is cloned key by key, a packed one as
  // a list, and `numbers` stays an array of unboxed doubles only while nothing else goes in.
  readonly strings: Array<string | null> = [];
  readonly numbers: number[] = [];

  static of(messages: Iterable<StoredMessage>): PackedMessages {
    if (messages instanceof PackedMessages) return messages;
    const packed = new PackedMessages();
    for (const message of messages) packed.push(message, message.expiresAt);
    return packed;
  }

  get length(): number {
    return this.numbers.length / PACKED_NUMBERS;
  }

  push(message: ImMessage, expiresAt: number): void {
    this.strings.push(message.id, message.to, message.from, message.clientId ?? null, message.body);
    this.numbers.push(message.seq, message.ts, expiresAt);
  }

  /** The `index`th message, as a new object. */
  at(index: number): StoredMessage {
    const s = index * PACKED_STRINGS;
    const n = index * PACKED_NUMBERS;
    const { strings, numbers } = this;
    const message = {
      id: strings[s]!,
      seq: numbers[n]!,
      from: strings[s + 2]!,
      to: strings[s + 1]!,
      body: strings[s + 4]!,
      ts: numbers[n + 1]!,
      expiresAt: numbers[n + 2]!,
    };
    const clientId = strings[s + 3];
    return clientId === null ? message : { ...message, clientId };
  }

  /** Recipients only, without building a message. */
  recipientAt(index: number): string {
    return this.strings[index * PACKED_STRINGS + 1]!;
  }

  *[Symbol.iterator](): Iterator<StoredMessage> {
    for (let i = 0; i < this.length; i++) yield this.at(i);
  }
}

/**
 * Sent records on their way to the store, packed as `PackedMessages` are and for the same reason:
 * one per JSON message delivered, waiting up to a background commit. Per record: sender and
 * client id in `strings`, delivered (1) or queued (0) and expiresAt in `numbers`, and the pair's
 * `pairHash` in `hashes`: computed once, for the service's filter and the SQLite driver's index.
 */
export class PackedSentRecords implements Iterable<SentRecord> {
  readonly strings: string[] = [];
  readonly numbers: number[] = [];
  readonly hashes: number[] = [];

  static of(records: Iterable<SentRecord>): PackedSentRecords {
    if (records instanceof PackedSentRecords) return records;
    const packed = new PackedSentRecords();
    for (const { sender, clientId, status, expiresAt } of records) packed.push(sender, clientId, status, expiresAt);
    return packed;
  }

  get length(): number {
    return this.strings.length / 2;
  }

  /** `hash`: `pairHash(sender, clientId)`, when the caller has it already. */
  push(
    sender: string,
    clientId: string,
    status: SentRecord['status'],
    expiresAt: number,
    hash = pairHash(sender, clientId),
  ): void {
    this.strings.push(sender, clientId);
    this.numbers.push(status === 'delivered' ? 1 : 0, expiresAt);
    this.hashes.push(hash);
  }

  /**
   * Whether a `delivered` record of (sender, client id) is here; `hash` is its `pairHash`. A scan,
   * newest first: asked only for the rare send the filter cannot call new.
   */
  hasDelivered(sender: string, clientId: string, hash: number): boolean {
    const { hashes, strings, numbers } = this;
    for (let i = hashes.length - 1; i >= 0; i--) {
      if (hashes[i] === hash && numbers[i * 2] === 1 && strings[i * 2] === sender && strings[i * 2 + 1] === clientId) {
        return true;
      }
    }
    return false;
  }

  at(index: number): SentRecord {
    const i = index * 2;
    const status = this.numbers[i] === 1 ? 'delivered' : 'queued';
    return { sender: this.strings[i]!, clientId: this.strings[i + 1]!, status, expiresAt: this.numbers[i + 1]! };
  }

  *[Symbol.iterator](): Iterator<SentRecord> {
    for (let i = 0; i < this.length; i++) yield this.at(i);
  }
}
