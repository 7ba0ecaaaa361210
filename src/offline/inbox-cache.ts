import type { DeliveredMessage, StoredMessage } from './offline-message.store.js';
import type { PackedMessages } from './packed-messages.js';

/**
 * What one committed write or purge did to the inbox usage table: for every recipient whose row it
 * wrote, the row as written (`messages` 0: the row was deleted, the inbox is empty), all under the
 * transaction's `stamp`, and the stamp the row had before (0: there was none).
 */
export interface UsageWritten {
  readonly stamp: number;
  readonly usageTo: readonly string[];
  readonly usageMessages: readonly number[];
  readonly usageBytes: readonly number[];
  readonly usageWas: readonly number[];
}

/** The usage row a read found for a recipient: messages, bytes, stamp. */
export type UsageRow = readonly [messages: number, bytes: number, stamp: number];

/** Rough heap bytes a cached message costs beyond its strings: the object, its slot, its size. */
const MESSAGE_OVERHEAD_BYTES = 160;

/** One recipient's whole inbox, in seq order from `head` (removed messages before it await compaction). */
class CachedInbox {
  messages: StoredMessage[] = [];
  /** UTF-8 bytes of each message's body, as the usage table counts them. */
  sizes: number[] = [];
  head = 0;
  /** Messages and body bytes from `head` on: what the usage row must say. */
  count = 0;
  bytes = 0;
  /** Approximate heap bytes, for the cache's budget. */
  memory = 0;
  stamp = 0;

  insert(message: StoredMessage, size: number): number {
    const { messages, sizes } = this;
    let at = messages.length;
    // Nearly always the newest; a message returned to the inbox by a connection that let it go
    // keeps its older seq and goes to its place.
    while (at > this.head && messages[at - 1]!.seq > message.seq) at--;
    if (at === messages.length) {
      messages.push(message);
      sizes.push(size);
    } else {
      messages.splice(at, 0, message);
      sizes.splice(at, 0, size);
    }
    this.count++;
    this.bytes += size;
    const memory = memoryOf(message, size);
    this.memory += memory;
    return memory;
  }

  /** Takes out the message with this seq, if held; answers the memory freed. */
  remove(seq: number): number {
    const at = this.indexOf(seq);
    if (at < 0) return 0;
    const message = this.messages[at]!;
    const size = this.sizes[at]!;
    if (at === this.head) {
      // A drain removes from the front: advance, and compact once half the array is dead.
      this.head++;
      if (this.head > 64 && this.head * 2 > this.messages.length) {
        this.messages = this.messages.slice(this.head);
        this.sizes = this.sizes.slice(this.head);
        this.head = 0;
      }
    } else {
      this.messages.splice(at, 1);
      this.sizes.splice(at, 1);
    }
    this.count--;
    this.bytes -= size;
    const memory = memoryOf(message, size);
    this.memory -= memory;
    return memory;
  }

  /** Index of `seq` from `head` on, or -1: a binary search, the array being in seq order. */
  private indexOf(seq: number): number {
    let lo = this.head;
    let hi = this.messages.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const at = this.messages[mid]!.seq;
      if (at === seq) return mid;
      if (at < seq) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** First index past `afterSeq`. */
  private after(afterSeq: number): number {
    let lo = this.head;
    let hi = this.messages.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.messages[mid]!.seq <= afterSeq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** As `OfflineMessageStore.peek` answers: unexpired, past `afterSeq`, up to `limit` and `maxBytes`. */
  peek(now: number, limit: number, afterSeq: number, maxBytes: number): StoredMessage[] {
    const out: StoredMessage[] = [];
    let bytes = 0;
    for (let i = this.after(afterSeq); i < this.messages.length && out.length < limit; i++) {
      const message = this.messages[i]!;
      if (message.expiresAt <= now) continue;
      out.push(message);
      bytes += this.sizes[i]!;
      if (bytes >= maxBytes) break;
    }
    return out;
  }

  /** Drops the messages expired at `now`, as the purge deleted them; answers the memory freed. */
  dropExpired(now: number): number {
    const messages: StoredMessage[] = [];
    const sizes: number[] = [];
    let freed = 0;
    for (let i = this.head; i < this.messages.length; i++) {
      const message = this.messages[i]!;
      const size = this.sizes[i]!;
      if (message.expiresAt > now) {
        messages.push(message);
        sizes.push(size);
        continue;
      }
      this.count--;
      this.bytes -= size;
      freed += memoryOf(message, size);
    }
    this.messages = messages;
    this.sizes = sizes;
    this.head = 0;
    this.memory -= freed;
    return freed;
  }
}

function memoryOf(message: StoredMessage, size: number): number {
  return MESSAGE_OVERHEAD_BYTES + size + message.id.length + (message.clientId?.length ?? 0);
}

/**
 * The inboxes this process wrote, kept in memory as they were committed, so that a drain reads
 * them without reading the file: about half of a drain's event-loop time goes to reading rows, as
 * every commit of the writer thread empties the reading connection's page cache.
 *
 * An inbox is cached only whole. It enters when a commit leaves it holding exactly the messages
 * that commit appended (it was empty before, or the rest was removed in the same commit), and is
 * then kept by every commit of this process: each one's appends, removals and the purge's
 * deletions are applied, and the recipient's usage row must have carried the stamp of this
 * cache's last commit before it (a stamp the writer draws for each transaction) and must count
 * what is cached after it, or the inbox leaves. A read serves the cache only while the usage row in the file still carries that stamp
 * and those counts: a commit by another store on the same file (a second process during a
 * rolling restart) or one of this process not yet answered makes it read the file. Whole inboxes
 * leave, least recently written first, when the cache passes its budget.
 */
export class InboxCache {
  private readonly inboxes = new Map<string, CachedInbox>();
  private memory = 0;

  constructor(private readonly maxMemory: number) {}

  /** Approximate heap bytes held: never more than the budget once a commit has been applied. */
  get memoryBytes(): number {
    return this.memory;
  }

  get size(): number {
    return this.inboxes.size;
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
   * A write committed: `messages` were appended except those `skipped` (refused by the quota, or
   * already stored), `removed` were delivered, and `usage` is what the commit wrote.
   */
  written(
    messages: PackedMessages,
    skipped: ReadonlySet<string>,
    removed: readonly DeliveredMessage[],
    usage: UsageWritten,
  ): void {
    // Appends for recipients not cached: an inbox enters only if they turn out to be all of it.
    let fresh: Map<string, StoredMessage[]> | undefined;
    for (let i = 0; i < messages.length; i++) {
      const to = messages.recipientAt(i);
      const inbox = this.inboxes.get(to);
      const message = messages.at(i);
      if (skipped.size > 0 && skipped.has(message.id)) continue;
      if (inbox !== undefined) {
        this.memory += inbox.insert(message, Buffer.byteLength(message.body));
        continue;
      }
      fresh ??= new Map();
      const list = fresh.get(to);
      if (list === undefined) fresh.set(to, [message]);
      else list.push(message);
    }
    for (const { to, seq } of removed) {
      const inbox = this.inboxes.get(to);
      if (inbox !== undefined) this.memory -= inbox.remove(seq);
    }
    this.settle(usage, fresh);
  }

  /** The purge committed: whatever expired at `now` is gone from the file. */
  purged(now: number, usage: UsageWritten): void {
    for (let i = 0; i < usage.usageTo.length; i++) {
      const inbox = this.inboxes.get(usage.usageTo[i]!);
      if (inbox !== undefined) this.memory -= inbox.dropExpired(now);
    }
    this.settle(usage, undefined);
  }

  clear(): void {
    this.inboxes.clear();
    this.memory = 0;
  }

  /** Checks every inbox the commit touched against its usage row; admits the fresh ones that are whole. */
  private settle(
    { stamp, usageTo, usageMessages, usageBytes, usageWas }: UsageWritten,
    fresh?: Map<string, StoredMessage[]>,
  ): void {
    for (let i = 0; i < usageTo.length; i++) {
      const to = usageTo[i]!;
      const messages = usageMessages[i]!;
      const bytes = usageBytes[i]!;
      const inbox = this.inboxes.get(to);
      if (inbox !== undefined) {
        // Nobody else wrote the inbox since this cache's last commit (the row still had its
        // stamp), and the counts agree: the copy is the inbox.
        if (usageWas[i] === inbox.stamp && messages > 0 && inbox.count === messages && inbox.bytes === bytes) {
          inbox.stamp = stamp;
          // Most recently written last: the budget evicts from the front.
          this.inboxes.delete(to);
          this.inboxes.set(to, inbox);
        } else {
          this.drop(to, inbox);
        }
        continue;
      }
      const appended = fresh?.get(to);
      if (appended === undefined || appended.length !== messages) continue;
      const entering = new CachedInbox();
      for (const message of appended) entering.insert(message, Buffer.byteLength(message.body));
      if (entering.bytes !== bytes) continue;
      entering.stamp = stamp;
      this.inboxes.set(to, entering);
      this.memory += entering.memory;
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
