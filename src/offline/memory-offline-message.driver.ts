import type { InboxWrite, SentRecord, StoredMessage } from './offline-message.store.js';
import { OfflineMessageStore } from './offline-message.store.js';

/** User ids cannot contain control characters, so a newline separates the two parts unambiguously. */
const sentKey = (sender: string, clientId: string): string => `${sender}\n${clientId}`;

/** Inboxes in process memory: for tests and throwaway setups; a restart loses them. */
export class MemoryOfflineMessageDriver extends OfflineMessageStore {
  private readonly inboxes = new Map<string, StoredMessage[]>();
  private readonly recipientOf = new Map<string, string>();
  private readonly idOfSeq = new Map<number, string>();
  private readonly sent = new Map<string, SentRecord>();

  async open(): Promise<void> {}

  async write({ append, remove, sent }: InboxWrite): Promise<void> {
    for (const message of append) this.insert(message);
    for (const seq of remove) {
      const id = this.idOfSeq.get(seq);
      if (id !== undefined) this.delete(id);
    }
    for (const record of sent) this.sent.set(sentKey(record.sender, record.clientId), record);
  }

  async findSent(sender: string, clientId: string, now: number): Promise<SentRecord | undefined> {
    const record = this.sent.get(sentKey(sender, clientId));
    return record && record.expiresAt > now ? record : undefined;
  }

  async peek(recipient: string, now: number, limit: number, afterSeq = -1): Promise<StoredMessage[]> {
    const out: StoredMessage[] = [];
    for (const message of this.inboxes.get(recipient) ?? []) {
      if (out.length >= limit) break;
      if (message.seq > afterSeq && message.expiresAt > now) out.push(message);
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

  async purgeExpired(now: number): Promise<number> {
    let purged = 0;
    for (const [recipient, inbox] of this.inboxes) {
      const kept = inbox.filter((m) => m.expiresAt > now);
      purged += inbox.length - kept.length;
      for (const m of inbox) {
        if (m.expiresAt > now) continue;
        this.recipientOf.delete(m.id);
        this.idOfSeq.delete(m.seq);
      }
      if (kept.length === 0) this.inboxes.delete(recipient);
      else this.inboxes.set(recipient, kept);
    }
    for (const [key, record] of this.sent) if (record.expiresAt <= now) this.sent.delete(key);
    return purged;
  }

  async close(): Promise<void> {
    this.inboxes.clear();
    this.recipientOf.clear();
    this.idOfSeq.clear();
    this.sent.clear();
  }

  /** Keeps each inbox sorted by seq: a message returned to the inbox lands at its old place. */
  private insert(message: StoredMessage): void {
    if (this.recipientOf.has(message.id) || this.idOfSeq.has(message.seq)) return;
    this.recipientOf.set(message.id, message.to);
    this.idOfSeq.set(message.seq, message.id);
    let inbox = this.inboxes.get(message.to);
    if (!inbox) this.inboxes.set(message.to, (inbox = []));
    let i = inbox.length;
    while (i > 0 && inbox[i - 1]!.seq > message.seq) i--;
    inbox.splice(i, 0, message);
  }

  private delete(id: string): void {
    const recipient = this.recipientOf.get(id);
    if (recipient === undefined) return;
    this.recipientOf.delete(id);
    const inbox = this.inboxes.get(recipient)!;
    const [gone] = inbox.splice(inbox.findIndex((m) => m.id === id), 1);
    this.idOfSeq.delete(gone!.seq);
    if (inbox.length === 0) this.inboxes.delete(recipient);
  }
}
