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
/** Records a batch's columns first have room for; doubled whenever full. */
const INITIAL_RECORDS = 1_024;

/** `column` in an array of the same kind `size` long, its first `length` entries kept. */
function resized<T extends Uint8Array | Uint32Array | Float64Array>(column: T, size: number, length: number): T {
  const grown = new (column.constructor as new (size: number) => T)(size);
  grown.set(column.subarray(0, length));
  return grown;
}

/**
 * Sent records on their way to the store, packed as `PackedMessages` are and for the same reason:
 * one per JSON message delivered, waiting up to a background commit and then through it. Per
 * record: its sender in `senders` (a connection's user: one string for all its records), and in
 * typed columns whether it is delivered (1) or queued (0), its expiresAt, the pair's `pairHash`
 * (computed once, for the service's filter and the SQLite driver's index) and where its client
 * id ends in one buffer that holds them all as UTF-8. A client id string per record, unique and
 * held for tens of milliseconds, outlived young-generation collections: each copied it, then
 * moved it to the old generation; so did arrays of numbers growing with the batch. The columns
 * and the buffer are outside the heap, and go to the writer thread as one copy each. Client ids
 * are well-formed UTF-16 (the JSON codec and the admin API refuse any other), so they come back
 * from UTF-8 as they went in.
 */
export class PackedSentRecords implements Iterable<SentRecord> {
  readonly senders: string[] = [];
  private delivered = new Uint8Array(0);
  private expiry = new Float64Array(0);
  private hashes = new Uint32Array(0);
  private ends = new Uint32Array(0);
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

  /** Per record, where its client id ends in `clientIdBytes` (views, not copies, as the rest below). */
  get clientIdEnds(): Uint32Array {
    return this.ends.subarray(0, this.length);
  }

  /** Per record, 1 when it says delivered, 0 when queued. */
  get deliveredFlags(): Uint8Array {
    return this.delivered.subarray(0, this.length);
  }

  get expiresAts(): Float64Array {
    return this.expiry.subarray(0, this.length);
  }

  /** Record `index`'s `pairHash`. */
  hashAt(index: number): number {
    return this.hashes[index]!;
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
    const index = this.senders.length;
    if (index === this.hashes.length) this.growColumns();
    this.used += this.bytes.write(clientId, this.used);
    this.ends[index] = this.used;
    this.delivered[index] = status === 'delivered' ? 1 : 0;
    this.expiry[index] = expiresAt;
    this.hashes[index] = hash;
    this.senders.push(sender);
  }

  clientIdAt(index: number): string {
    const start = index === 0 ? 0 : this.ends[index - 1]!;
    return this.bytes.toString('utf8', start, this.ends[index]!);
  }

  /**
   * Whether a `delivered` record of (sender, client id) is here; `hash` is its `pairHash`. Asked
   * for every send the service's filter cannot call new: rarely, unless there is no filter (the
   * Redis store), where every send asks. The hashes of delivered records go into a set from the
   * first question on, a record at most once, so each answer costs a lookup; only a hash found
   * there is looked for among the records.
   */
  hasDelivered(sender: string, clientId: string, hash: number): boolean {
    const { hashes, senders, delivered, length } = this;
    this.deliveredHashes ??= new Set();
    const set = this.deliveredHashes;
    for (; this.indexed < length; this.indexed++) {
      // As 32-bit signed integers: small integers in the set, not a boxed number each.
      if (delivered[this.indexed] === 1) set.add(hashes[this.indexed]! | 0);
    }
    if (!set.has(hash | 0)) return false;
    for (let i = length - 1; i >= 0; i--) {
      if (hashes[i] === hash && delivered[i] === 1 && senders[i] === sender && this.clientIdAt(i) === clientId) {
        return true;
      }
    }
    return false;
  }

  at(index: number): SentRecord {
    return {
      sender: this.senders[index]!,
      clientId: this.clientIdAt(index),
      status: this.delivered[index] === 1 ? 'delivered' : 'queued',
      expiresAt: this.expiry[index]!,
    };
  }

  *[Symbol.iterator](): Iterator<SentRecord> {
    for (let i = 0; i < this.length; i++) yield this.at(i);
  }

  private growColumns(): void {
    const length = this.senders.length;
    const size = Math.max(INITIAL_RECORDS, 2 * length);
    this.delivered = resized(this.delivered, size, length);
    this.expiry = resized(this.expiry, size, length);
    this.hashes = resized(this.hashes, size, length);
    this.ends = resized(this.ends, size, length);
  }

  private grow(room: number): void {
    let size = Math.max(this.bytes.length * 2, INITIAL_CLIENT_ID_BYTES);
    while (size < this.used + room) size *= 2;
    const bytes = Buffer.allocUnsafeSlow(size);
    this.bytes.copy(bytes, 0, 0, this.used);
    this.bytes = bytes;
  }
}
