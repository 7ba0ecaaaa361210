import type { ImMessage } from '../client/index.js';

/**
 * A message of ours is `sending` until the gateway confirms it, then `queued` (in the recipient's
 * offline inbox) or `delivered` (a device of theirs has it); `failed` if the gateway refused it
 * or the page closed before it was confirmed. A message to us is `received`.
 */
export type MessageState = 'sending' | 'queued' | 'delivered' | 'failed' | 'received';

export interface ChatMessage {
  /** The client id of a message we sent, the server id of one we received. */
  readonly key: string;
  readonly mine: boolean;
  readonly body: string;
  /** When we sent it, or when the gateway accepted it (ms since the epoch). */
  readonly ts: number;
  state: MessageState;
}

/** What is kept of one conversation: enough to scroll back, bounded so storage never fills up. */
const KEPT_PER_PEER = 200;
const STORAGE_PREFIX = 'im-chat:v1:';

/**
 * Conversations per peer for one user, kept in `localStorage` so that a closed tab comes back to
 * them. Received messages are de-duplicated by server id: after a reload the gateway redelivers
 * what the last page had not acknowledged yet.
 */
export class ChatStore {
  private readonly conversations = new Map<string, ChatMessage[]>();
  private readonly byKey = new Map<string, ChatMessage>();

  constructor(
    private readonly me: string,
    private readonly storage: Storage | undefined,
  ) {
    this.load();
  }

  /** Peers, the most recent conversation first. */
  peers(): string[] {
    const last = (peer: string) => this.conversations.get(peer)!.at(-1)?.ts ?? 0;
    return [...this.conversations.keys()].sort((a, b) => last(b) - last(a));
  }

  messages(peer: string): readonly ChatMessage[] {
    return this.conversations.get(peer) ?? [];
  }

  addSent(peer: string, key: string, body: string): void {
    this.append(peer, { key, mine: true, body, ts: Date.now(), state: 'sending' });
  }

  /** False when the message is already here (a redelivery). */
  addReceived(message: ImMessage): boolean {
    if (this.byKey.has(message.id)) return false;
    this.append(message.from, { key: message.id, mine: false, body: message.body, ts: message.ts, state: 'received' });
    return true;
  }

  /** Moves a sent message on; `delivered` is final, whatever arrives after it. */
  setState(key: string, state: MessageState): void {
    const message = this.byKey.get(key);
    if (message === undefined || message.state === 'delivered') return;
    message.state = state;
    this.save();
  }

  private append(peer: string, message: ChatMessage): void {
    let list = this.conversations.get(peer);
    if (list === undefined) {
      list = [];
      this.conversations.set(peer, list);
    }
    list.push(message);
    this.byKey.set(message.key, message);
    for (const dropped of list.splice(0, Math.max(0, list.length - KEPT_PER_PEER))) this.byKey.delete(dropped.key);
    this.save();
  }

  private save(): void {
    try {
      this.storage?.setItem(STORAGE_PREFIX + this.me, JSON.stringify([...this.conversations]));
    } catch {
      // Storage full or refused (private mode): the conversation still works, unsaved.
    }
  }

  private load(): void {
    let saved: [string, ChatMessage[]][];
    try {
      saved = JSON.parse(this.storage?.getItem(STORAGE_PREFIX + this.me) ?? '[]');
    } catch {
      return;
    }
    for (const [peer, list] of saved) {
      // The SDK's outbox lived in the closed page: what it had not confirmed was not sent.
      for (const message of list) if (message.state === 'sending') message.state = 'failed';
      this.conversations.set(peer, list);
      for (const message of list) this.byKey.set(message.key, message);
    }
  }
}
