import type { DeliveredMessage, StoredMessage } from './offline-message.store.js';
import { PACKED_NUMBERS, PACKED_STRINGS, type PackedMessages } from './packed-messages.js';

/**
 * What one committed write or purge did to the inbox usage table: for every recipient whose row it
 * wrote, the row as written (`messages` 0: the row was deleted, the inbox is empty), all under the
 * transaction's `stamp`; the stamp the row had before (0: there was none); and how many messages
 * the transaction inserted into the inbox.
 */
export interface UsageWritten {
  readonly stamp: number;
  readonly usageTo: readonly string[];
  readonly usageMessages: readonly number[];
  readonly usageBytes: readonly number[];
  readonly usageWas: readonly number[];
  readonly usageInserted: readonly number[];
}

/** The usage row a read found for a recipient: messages, bytes, stamp (and the watermark, unused here). */
export type UsageRow = readonly [messages: number, bytes: number, stamp: number, deliveredThrough?: number];

/**
 * Heap bytes a cached message costs beyond its body and ids: its slots, its numbers, the string of
 * its frame the body is cut from (286 bytes in all for a 100-byte body, measured).
 */
const MESSAGE_OVERHEAD_BYTES = 176;

/** Per message in `CachedInbox.numbers`: seq, ts, expiresAt, UTF-8 bytes of the body. */
const NUMBERS = 4;
/** Per message in `CachedInbox.strings`: id, from, client id (or null), body. */
const STRINGS = 4;

/**
 * One recipient's whole inbox, in seq order from `head` (removed messages before it await
 * compaction). Kept flat, not an object per message: the numbers in a typed array, outside the
 * heap, and the strings in one array. Appending a message then allocates nothing the young
 * generation must copy, and a cached inbox costs each major collection one array to mark. A
 * message object is made when a read answers it.
 */
class CachedInbox {
  private numbers = new Float64Array(NUMBERS * 16);
  private readonly strings: Array<string | null> = [];
  /** Messages held, the removed ones before `head` included. */
  private length = 0;
  private head = 0;
  /** Messages and body bytes from `head` on: what the usage row must say. */
  count = 0;
  bytes = 0;
  /** Approximate heap bytes, for the cache's budget. */
  memory = 0;
  stamp = 0;

  constructor(private readonly to: string) {}

  private seqAt(i: number): number {
    return this.numbers[i * NUMBERS]!;
  }

  /** Adds the `index`th message of `packed` (`size` UTF-8 bytes of body) in its place; answers its memory. */
  insert(packed: PackedMessages, index: number, size: number): number {
    const s = index * PACKED_STRINGS;
    const n = index * PACKED_NUMBERS;
    const seq = packed.numbers[n]!;
    const id = packed.strings[s]!;
    const clientId = packed.strings[s + 3]!;
    if ((this.length + 1) * NUMBERS > this.numbers.length) {
      const grown = new Float64Array(this.numbers.length * 2);
      grown.set(this.numbers);
      this.numbers = grown;
    }
    let at = this.length;
    // Nearly always the newest; a message returned to the inbox by a connection that let it go
    // keeps its older seq and goes to its place.
    while (at > this.head && this.seqAt(at - 1) > seq) at--;
    const { numbers, strings } = this;
    if (at < this.length) {
      numbers.copyWithin((at + 1) * NUMBERS, at * NUMBERS, this.length * NUMBERS);
      strings.splice(at * STRINGS, 0, id, packed.strings[s + 2]!, clientId, packed.strings[s + 4]!);
    } else {
      strings.push(id, packed.strings[s + 2]!, clientId, packed.strings[s + 4]!);
    }
    const o = at * NUMBERS;
    numbers[o] = seq;
    numbers[o + 1] = packed.numbers[n + 1]!;
    numbers[o + 2] = packed.numbers[n + 2]!;
    numbers[o + 3] = size;
    this.length++;
    this.count++;
    this.bytes += size;
    const memory = memoryOf(id, clientId, size);
    this.memory += memory;
    return memory;
  }

  /** Takes out the message with this seq, if held; answers the memory freed. */
  remove(seq: number): number {
    const at = this.indexOf(seq);
    if (at < 0) return 0;
    const size = this.numbers[at * NUMBERS + 3]!;
    const memory = memoryOf(this.strings[at * STRINGS]!, this.strings[at * STRINGS + 2]!, size);
    if (at === this.head) {
      // A drain removes from the front: advance, and compact once half the slots are dead.
      this.head++;
      if (this.head > 64 && this.head * 2 > this.length) this.compact();
    } else {
      this.numbers.copyWithin(at * NUMBERS, (at + 1) * NUMBERS, this.length * NUMBERS);
      this.strings.splice(at * STRINGS, STRINGS);
      this.length--;
    }
    this.count--;
    this.bytes -= size;
    this.memory -= memory;
    return memory;
  }

  private compact(): void {
    this.numbers.copyWithin(0, this.head * NUMBERS, this.length * NUMBERS);
    this.strings.splice(0, this.head * STRINGS);
    this.length -= this.head;
    this.head = 0;
  }

  /** Index of `seq` from `head` on, or -1: a binary search, the messages being in seq order. */
  private indexOf(seq: number): number {
    let lo = this.head;
    let hi = this.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const at = this.seqAt(mid);
      if (at === seq) return mid;
      if (at < seq) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** First index past `afterSeq`. */
  private after(afterSeq: number): number {
    let lo = this.head;
    let hi = this.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.seqAt(mid) <= afterSeq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** As `OfflineMessageStore.peek` answers: unexpired, past `afterSeq`, up to `limit` and `maxBytes`. */
  peek(now: number, limit: number, afterSeq: number, maxBytes: number): StoredMessage[] {
    const out: StoredMessage[] = [];
    let bytes = 0;
    for (let i = this.after(afterSeq); i < this.length && out.length < limit; i++) {
      const o = i * NUMBERS;
      const expiresAt = this.numbers[o + 2]!;
      if (expiresAt <= now) continue;
      out.push(this.message(i, expiresAt));
      bytes += this.numbers[o + 3]!;
      if (bytes >= maxBytes) break;
    }
    return out;
  }

  /** The same shape as a message read from the file. */
  private message(i: number, expiresAt: number): StoredMessage {
    const o = i * NUMBERS;
    const s = i * STRINGS;
    const { strings, numbers } = this;
    const id = strings[s]!;
    const seq = numbers[o]!;
    const from = strings[s + 1]!;
    const to = this.to;
    const body = strings[s + 3]!;
    const ts = numbers[o + 1]!;
    const clientId = strings[s + 2]!;
    if (clientId === null) return { id, seq, from, to, body, ts, expiresAt };
    return { id, seq, from, to, body, ts, expiresAt, clientId };
  }

  /** Drops the messages expired at `now`, as the purge deleted them, in one pass; answers the memory freed. */
  dropExpired(now: number): number {
    const { numbers, strings } = this;
    let kept = 0;
    let freed = 0;
    for (let i = this.head; i < this.length; i++) {
      const o = i * NUMBERS;
      const s = i * STRINGS;
      if (numbers[o + 2]! > now) {
        numbers.copyWithin(kept * NUMBERS, o, o + NUMBERS);
        for (let k = 0; k < STRINGS; k++) strings[kept * STRINGS + k] = strings[s + k]!;
        kept++;
        continue;
      }
      const size = numbers[o + 3]!;
      this.count--;
      this.bytes -= size;
      freed += memoryOf(strings[s]!, strings[s + 2]!, size);
    }
    strings.length = kept * STRINGS;
    this.length = kept;
    this.head = 0;
    this.memory -= freed;
    return freed;
  }
}

function memoryOf(id: string | null, clientId: string | null, size: number): number {
  return MESSAGE_OVERHEAD_BYTES + size + (id?.length ?? 0) + (clientId?.length ?? 0);
}

/**
 * The inboxes this process wrote, kept in memory as they were committed, so that a drain reads
 * them without reading the file: reading rows was half of a drain's event-loop time, as every
 * commit of the writer thread empties the reading connection's page cache.
 *
 * An inbox is cached only whole. It enters when a commit leaves it holding exactly the messages
 * that commit appended (it was empty before, or the rest was removed in the same commit), and is
 * then kept by every commit of this process: each one's removals, appends and the purge's
 * deletions are applied, and the recipient's usage row must have carried the stamp of this
 * cache's last commit before it (a stamp the writer draws for each transaction) and must count
 * what is cached after it, or the inbox leaves. A read serves the cache only while the usage row
 * in the file still carries that stamp and those counts: a commit by another store on the same
 * file (a second process), or one of this process not answered yet, makes it read the file.
 * Whole inboxes leave, least recently written first, when the cache passes its budget.
 */
export class InboxCache {
  private readonly inboxes = new Map<string, CachedInbox>();
  private memory = 0;

  constructor(private readonly maxMemory: number) {}

  /** Approximate heap bytes held: never more than the budget once a commit has been applied. */
  get memoryBytes(): number {
    return this.memory;
  }

  /**
   * The cached answer to a peek of `recipient`, or `undefined` (read the file): `usage` is the
   * recipient's row read from the file just now, `undefined` when there is none.
   */
  peek(
    recipient: string,
    usage: UsageRow | undefined,
    now: number,
    limit: number,
    afterSeq: number,
    maxBytes: number,
  ): StoredMessage[] | undefined {
    const inbox = this.inboxes.get(recipient);
    if (inbox === undefined || usage === undefined) return undefined;
    if (usage[0] !== inbox.count || usage[1] !== inbox.bytes || usage[2] !== inbox.stamp) return undefined;
    return inbox.peek(now, limit, afterSeq, maxBytes);
  }

  /** Whether `recipient`'s inbox is cached (a read still checks it against the file). */
  holds(recipient: string): boolean {
    return this.inboxes.has(recipient);
  }

  /**
   * A write committed: of `messages`, those with a size in `sizes` (UTF-8 bytes of the body) were
   * inserted, the others (-1) refused or stored already; `removed` were delivered; `usage` is what
   * the commit wrote.
   */
  written(
    messages: PackedMessages,
    sizes: readonly number[],
    removed: readonly DeliveredMessage[],
    usage: UsageWritten,
  ): void {
    // In the writer's order: removals first, then appends.
    for (const { to, seq } of removed) {
      const inbox = this.inboxes.get(to);
      if (inbox !== undefined) this.memory -= inbox.remove(seq);
    }
    const entering = this.entering(usage);
    for (let i = 0; i < messages.length; i++) {
      const size = sizes[i]!;
      if (size < 0) continue;
      const to = messages.recipientAt(i);
      const inbox = this.inboxes.get(to) ?? entering?.get(to);
      if (inbox !== undefined) this.memory += inbox.insert(messages, i, size);
    }
    this.settle(usage, entering);
  }

  /**
   * The inboxes this commit leaves holding only what it inserted (it was empty, or the rest was
   * removed in it): whole once its appends are in, they enter the cache.
   */
  private entering({ usageTo, usageMessages, usageInserted }: UsageWritten): Map<string, CachedInbox> | undefined {
    let entering: Map<string, CachedInbox> | undefined;
    for (let i = 0; i < usageTo.length; i++) {
      const to = usageTo[i]!;
      if (usageMessages[i]! === 0 || usageInserted[i] !== usageMessages[i] || this.inboxes.has(to)) continue;
      entering ??= new Map();
      entering.set(to, new CachedInbox(to));
    }
    return entering;
  }

  /** The purge committed: whatever expired at `now` is gone from the file. */
  purged(now: number, usage: UsageWritten): void {
    for (let i = 0; i < usage.usageTo.length; i++) {
      const inbox = this.inboxes.get(usage.usageTo[i]!);
      if (inbox !== undefined) this.memory -= inbox.dropExpired(now);
    }
    this.settle(usage);
  }

  clear(): void {
    this.inboxes.clear();
    this.memory = 0;
  }

  /** Checks every inbox the commit touched against its usage row; admits the fresh ones that are whole. */
  private settle(
    { stamp, usageTo, usageMessages, usageBytes, usageWas }: UsageWritten,
    entering?: Map<string, CachedInbox>,
  ): void {
    for (let i = 0; i < usageTo.length; i++) {
      const to = usageTo[i]!;
      const messages = usageMessages[i]!;
      const bytes = usageBytes[i]!;
      const fresh = entering?.get(to);
      if (fresh !== undefined) {
        // Memory was counted as its messages went in: it is the cache's already.
        if (fresh.count === messages && fresh.bytes === bytes) {
          fresh.stamp = stamp;
          this.inboxes.set(to, fresh);
        } else {
          this.memory -= fresh.memory;
        }
        continue;
      }
      const inbox = this.inboxes.get(to);
      if (inbox === undefined) continue;
      // Nobody else wrote the inbox since this cache's last commit (the row still had its stamp),
      // and the counts agree: the copy is the inbox.
      if (usageWas[i] === inbox.stamp && messages > 0 && inbox.count === messages && inbox.bytes === bytes) {
        inbox.stamp = stamp;
        // Most recently written last: the budget evicts from the front.
        this.inboxes.delete(to);
        this.inboxes.set(to, inbox);
      } else {
        this.drop(to, inbox);
      }
    }
    for (const [to, inbox] of this.inboxes) {
      if (this.memory <= this.maxMemory) break;
      this.drop(to, inbox);
    }
  }

  private drop(to: string, inbox: CachedInbox): void {
    this.inboxes.delete(to);
    this.memory -= inbox.memory;
  }
}
