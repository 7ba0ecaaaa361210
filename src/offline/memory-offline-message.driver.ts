import type { InboxWrite, SentRecord, StoredMessage, WriteResult } from './offline-message.store.js';
import { MAX_SENT_RECORDS, OfflineMessageStore } from './offline-message.store.js';
import { SentRing } from './sent-ring.js';

/** User ids cannot contain control characters, so a newline separates the two parts unambiguously. */
const sentKey = (sender: string, clientId: string): string => `${sender}\n${clientId}`;

/** The sender and client id a `sentKey` was made of (a client id may itself hold newlines). */
function splitSentKey(key: string): [sender: string, clientId: string] {
  const separator = key.indexOf('\n');
  return [key.slice(0, separator), key.slice(separator + 1)];
}

interface Usage {
  messages: number;
  bytes: number;
}

/**
 * A sent record as one number: its expiry in ms, doubled, plus 1 when `delivered`. A number per
 * record instead of an object keeps a million of them in tens of megabytes, not hundreds.
 */
const packSent = (record: SentRecord): number => record.expiresAt * 2 + (record.status === 'delivered' ? 1 : 0);

/** Inboxes in process memory: for tests and throwaway setups; a restart loses them. */
export class MemoryOfflineMessageDriver extends OfflineMessageStore {
  private readonly inboxes = new Map<string, StoredMessage[]>();
  private readonly recipientOf = new Map<string, string>();
  private readonly idOfSeq = new Map<number, string>();
  private readonly usage = new Map<string, Usage>();
  /**
   * Packed sent records (`packSent`) by `sentKey`, in the order they were written, which is
   * expiry order: every record lives for the same TTL. Never more than `maxSentRecords`: past it,
   * the records that expire first make room, at once rather than at the next purge.
   */
  private readonly sent: SentRing;

  constructor(maxSentRecords = MAX_SENT_RECORDS) {
    super();
    this.sent = new SentRing(maxSentRecords);
  }

  async open(): Promise<void> {}

  async write({ append, remove, sent, quota }: InboxWrite): Promise<WriteResult> {
    // Removals first: what was delivered frees room for what arrives in the same write.
    for (const { seq } of remove) {
      const id = this.idOfSeq.get(seq);
      if (id !== undefined) this.delete(id);
    }
    const refused: string[] = [];
    // Sent records of refused messages, by sender and client id: a resend must be checked again.
    const dropped = new Set<string>();
    for (const message of append) {
      if (this.recipientOf.has(message.id) || this.idOfSeq.has(message.seq)) continue;
      const bytes = Buffer.byteLength(message.body);
      const usage = this.usage.get(message.to) ?? { messages: 0, bytes: 0 };
      if (quota !== undefined && (usage.messages + 1 > quota.maxMessages || usage.bytes + bytes > quota.maxBytes)) {
        refused.push(message.id);
        if (message.clientId !== undefined) dropped.add(sentKey(message.from, message.clientId));
        continue;
      }
      this.insert(message);
      this.usage.set(message.to, { messages: usage.messages + 1, bytes: usage.bytes + bytes });
    }
    for (const record of sent) {
      const key = sentKey(record.sender, record.clientId);
      if (!dropped.has(key)) this.sent.set(key, packSent(record));
    }
    return { refused };
  }

  async listSent(now: number, visit: (sender: string, clientId: string) => void): Promise<boolean> {
    for (const [key, packed] of this.sent.entries()) {
      if (Math.floor(packed / 2) <= now) continue;
      visit(...splitSentKey(key));
    }
    return true;
  }

  async findSent(sender: string, clientId: string, now: number): Promise<SentRecord | undefined> {
    const packed = this.sent.get(sentKey(sender, clientId));
    if (packed === undefined) return undefined;
    const expiresAt = Math.floor(packed / 2);
    if (expiresAt <= now) return undefined;
    return { sender, clientId, status: packed % 2 === 1 ? 'delivered' : 'queued', expiresAt };
  }

  async peek(
    recipient: string,
    now: number,
    limit: number,
    afterSeq = -1,
    maxBytes = Infinity,
  ): Promise<StoredMessage[]> {
    const out: StoredMessage[] = [];
    let bytes = 0;
    for (const message of this.inboxes.get(recipient) ?? []) {
      if (out.length >= limit) break;
      if (message.seq <= afterSeq || message.expiresAt <= now) continue;
      out.push(message);
      bytes += Buffer.byteLength(message.body);
      if (bytes >= maxBytes) break;
    }
    return out;
  }

  async maxSeq(): Promise<number> {
    let max = 0;
    for (const inbox of this.inboxes.values()) max = Math.max(max, inbox[inbox.length - 1]!.seq);
    return max;
  }

  async recipients(limit: number): Promise<string[] | undefined> {
    return this.inboxes.size > limit ? undefined : [...this.inboxes.keys()];
  }

  async count(recipient: string, now: number): Promise<number> {
    let n = 0;
    for (const message of this.inboxes.get(recipient) ?? []) if (message.expiresAt > now) n++;
    return n;
  }

  async purgeExpired(now: number, maxSentRecords = MAX_SENT_RECORDS): Promise<number> {
    let purged = 0;
    for (const [recipient, inbox] of this.inboxes) {
      const kept = inbox.filter((m) => m.expiresAt > now);
      if (kept.length === inbox.length) continue;
      purged += inbox.length - kept.length;
      for (const m of inbox) {
        if (m.expiresAt > now) continue;
        this.recipientOf.delete(m.id);
        this.idOfSeq.delete(m.seq);
      }
      if (kept.length === 0) {
        this.inboxes.delete(recipient);
        this.usage.delete(recipient);
      } else {
        this.inboxes.set(recipient, kept);
        this.usage.set(recipient, {
          messages: kept.length,
          bytes: kept.reduce((n, m) => n + Buffer.byteLength(m.body), 0),
        });
      }
    }
    this.sent.dropOldestWhile((packed) => Math.floor(packed / 2) <= now);
    this.sent.bound(maxSentRecords);
    return purged;
  }

  async probe(): Promise<void> {}

  async close(): Promise<void> {
    this.inboxes.clear();
    this.recipientOf.clear();
    this.idOfSeq.clear();
    this.usage.clear();
    this.sent.clear();
  }

  /** Keeps each inbox sorted by seq: a message returned to the inbox lands at its old place. */
  private insert(message: StoredMessage): void {
    this.recipientOf.set(message.id, message.to);
    this.idOfSeq.set(message.seq, message.id);
    let inbox = this.inboxes.get(message.to);
    if (!inbox) {
      inbox = [];
      this.inboxes.set(message.to, inbox);
    }
    let i = inbox.length;
    while (i > 0 && inbox[i - 1]!.seq > message.seq) i--;
    inbox.splice(i, 0, message);
  }

  private delete(id: string): void {
    const recipient = this.recipientOf.get(id);
    if (recipient === undefined) return;
    this.recipientOf.delete(id);
    const inbox = this.inboxes.get(recipient)!;
    const [gone] = inbox.splice(
      inbox.findIndex((m) => m.id === id),
      1,
    );
    this.idOfSeq.delete(gone!.seq);
    if (inbox.length === 0) this.inboxes.delete(recipient);
    const usage = this.usage.get(recipient)!;
    if (usage.messages <= 1) this.usage.delete(recipient);
    else
      this.usage.set(recipient, { messages: usage.messages - 1, bytes: usage.bytes - Buffer.byteLength(gone!.body) });
  }
}
