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

/** Bytes a batch's client ids start with; doubled whenever they would not fit. */
const INITIAL_CLIENT_ID_BYTES = 16 * 1024;
/** UTF-8 bytes one UTF-16 code unit can take. */
const MAX_UTF8_PER_UNIT = 3;

/**
 * Sent records on their way to the store, packed as `PackedMessages` are and for the same reason:
 * one per JSON message delivered, waiting up to a background commit and then through it. Per
 * record: its sender in `senders` (a connection's user: one string for all its records), delivered
 * (1) or queued (0) and expiresAt in `numbers`, the pair's `pairHash` in `hashes` (computed once,
 * for the service's filter and the SQLite driver's index), and its client id as UTF-8 in one
 * buffer, which ends where `clientIdEnds` says. A client id string per record, unique and held
 * for tens of milliseconds, outlived young-generation collections: each copied it, then moved it
 * to the old generation; the buffer's bytes are outside the heap. Client ids are well-formed
 * UTF-16 (the JSON codec and the admin API refuse any other), so they come back from UTF-8 as
 * they went in.
 */
export class PackedSentRecords implements Iterable<SentRecord> {
  readonly senders: string[] = [];
  readonly numbers: number[] = [];
  readonly hashes: number[] = [];
  readonly clientIdEnds: number[] = [];
  private bytes = Buffer.allocUnsafeSlow(0);
  private used = 0;
  /** `pairHash`es of the delivered records among the first `indexed`, once `hasDelivered` is asked. */
  private deliveredHashes: Set<number> | undefined;
  private indexed = 0;

  static of(records: Iterable<SentRecord>): PackedSentRecords {
    if (records instanceof PackedSentRecords) return records;
    const packed = new PackedSentRecords();
    for (const { sender, clientId, status, expiresAt } of records) packed.push(sender, clientId, status, expiresAt);
    return packed;
  }

  get length(): number {
    return this.senders.length;
  }

  /** Every record's client id, UTF-8, back to back: a view of the buffer, not a copy. */
  get clientIdBytes(): Buffer {
    return this.bytes.subarray(0, this.used);
  }

  /** `hash`: `pairHash(sender, clientId)`, when the caller has it already. */
  push(
    sender: string,
    clientId: string,
    status: SentRecord['status'],
    expiresAt: number,
    hash = pairHash(sender, clientId),
  ): void {
    const room = clientId.length * MAX_UTF8_PER_UNIT;
    if (this.used + room > this.bytes.length) this.grow(room);
    this.used += this.bytes.write(clientId, this.used);
    this.clientIdEnds.push(this.used);
    this.senders.push(sender);
    this.numbers.push(status === 'delivered' ? 1 : 0, expiresAt);
    this.hashes.push(hash);
  }

  clientIdAt(index: number): string {
    const start = index === 0 ? 0 : this.clientIdEnds[index - 1]!;
    return this.bytes.toString('utf8', start, this.clientIdEnds[index]!);
  }

  /**
   * Whether a `delivered` record of (sender, client id) is here; `hash` is its `pairHash`. Asked
   * for every send the service's filter cannot call new: rarely, unless there is no filter (the
   * Redis store), where every send asks. The hashes of delivered records go into a set from the
   * first question on, a record at most once, so each answer costs a lookup; only a hash found
   * there is looked for among the records.
   */
  hasDelivered(sender: string, clientId: string, hash: number): boolean {
    const { hashes, senders, numbers } = this;
    this.deliveredHashes ??= new Set();
    const delivered = this.deliveredHashes;
    for (; this.indexed < hashes.length; this.indexed++) {
      // As 32-bit signed integers: small integers in the set, not a boxed number each.
      if (numbers[this.indexed * 2] === 1) delivered.add(hashes[this.indexed]! | 0);
    }
    if (!delivered.has(hash | 0)) return false;
    for (let i = hashes.length - 1; i >= 0; i--) {
      if (hashes[i] === hash && numbers[i * 2] === 1 && senders[i] === sender && this.clientIdAt(i) === clientId) {
        return true;
      }
    }
    return false;
  }

  at(index: number): SentRecord {
    const status = this.numbers[index * 2] === 1 ? 'delivered' : 'queued';
    return {
      sender: this.senders[index]!,
      clientId: this.clientIdAt(index),
      status,
      expiresAt: this.numbers[index * 2 + 1]!,
    };
  }

  *[Symbol.iterator](): Iterator<SentRecord> {
    for (let i = 0; i < this.length; i++) yield this.at(i);
  }

  private grow(room: number): void {
    let size = Math.max(this.bytes.length * 2, INITIAL_CLIENT_ID_BYTES);
    while (size < this.used + room) size *= 2;
    const bytes = Buffer.allocUnsafeSlow(size);
    this.bytes.copy(bytes, 0, 0, this.used);
    this.bytes = bytes;
  }
}
