import type { DeliveryStatus, SendListener } from '../messages/send-listener.js';

/** Where a sender's answered sends are durably recorded (the offline store). */
export interface SentRecords {
  /**
   * False only when (sender, client id) certainly has no record: no need to read the store. A
   * pair counts from the moment its record is requested, before `startQueuing` is called for its
   * message.
   */
  mayHaveSent(sender: string, clientId: string): boolean;
  /** True while a `delivered` record of the pair is requested and not committed yet. */
  isRecordingDelivered(sender: string, clientId: string): boolean;
  findSent(sender: string, clientId: string): Promise<{ readonly status: DeliveryStatus } | undefined>;
}

/** The router's live deliveries: a resend of one of them is pointed at the same outcome. */
export interface LiveDeliveries {
  /** Makes `listener` hear the outcome of live message `id`; false when no unsettled one is live. */
  reattach(id: string, listener: SendListener): boolean;
}

/**
 * Makes a send with a client id idempotent: a resend of a message that is still being handled
 * waits for (or gets) the same answer as the first copy, and a resend of one already answered
 * gets that answer again, from the store. Between the moment an answer is given and the moment
 * its record is durable the store cannot see it; this window covers that gap:
 * - `queuing`: messages on their way into the inbox, with everyone waiting for `queued`;
 * - messages delivered whose `delivered` record is not committed yet: the store's writer holds
 *   those records until their commit (`SentRecords.isRecordingDelivered`); kept nowhere else, so
 *   that each message's id is let go as soon as it is delivered.
 */
export class IdempotencyWindow {
  private readonly queuing = new Map<string, SendListener[]>();

  constructor(
    private readonly records: SentRecords,
    private readonly live: LiveDeliveries,
  ) {}

  /**
   * True when message `id` (sender `from`, client id `clientId`) is new and must be routed; false
   * when it is a copy, which `listener` has been (or will be) answered for. `onQueuedRecord`: the
   * store says the first copy was queued (the resend may come because its sender never heard
   * more, say after its node died between storing it and sending it on); it is called before the
   * answer settles, so what it starts comes ahead of the sender's later sends. Answers at once, with
   * no promise, when no record can exist: a new client id, nearly every send.
   */
  admit(
    from: string,
    clientId: string,
    id: string,
    listener: SendListener,
    onQueuedRecord?: () => void,
  ): boolean | Promise<boolean> {
    // A pair the records never saw has no answer recorded, being recorded or being queued: each
    // of those adds it first (`SentRecords.mayHaveSent`). Only a live copy can exist, and nearly
    // every send ends here, without the two lookups of `inFlight`.
    if (!this.records.mayHaveSent(from, clientId)) return !this.live.reattach(id, listener);
    if (this.inFlight(from, clientId, id, listener)) return false;
    return this.admitStored(from, clientId, id, listener, onQueuedRecord);
  }

  private async admitStored(
    from: string,
    clientId: string,
    id: string,
    listener: SendListener,
    onQueuedRecord?: () => void,
  ): Promise<boolean> {
    const record = await this.records.findSent(from, clientId);
    if (record !== undefined) {
      listener.confirm(clientId, id, record.status);
      if (record.status === 'queued') onQueuedRecord?.();
      return false;
    }
    // While the store was read, the first copy may have started on its way.
    return !this.inFlight(from, clientId, id, listener);
  }

  /**
   * Message `id` is being written to the inbox for `listener`. Answers everyone who must hear the
   * outcome (resends join this list), or `undefined` when a write of it is already under way and
   * `listener` joined that one.
   */
  startQueuing(id: string, listener: SendListener): SendListener[] | undefined {
    const waiting = this.queuing.get(id);
    if (waiting !== undefined) {
      waiting.push(listener);
      return undefined;
    }
    const listeners = [listener];
    this.queuing.set(id, listeners);
    return listeners;
  }

  /** The inbox write of `id` is over, answered either way: the store has the record, or nothing. */
  finishQueuing(id: string): void {
    this.queuing.delete(id);
  }

  private inFlight(from: string, clientId: string, id: string, listener: SendListener): boolean {
    if (this.records.isRecordingDelivered(from, clientId)) {
      listener.confirm(clientId, id, 'delivered');
      return true;
    }
    if (this.live.reattach(id, listener)) return true;
    const waiting = this.queuing.get(id);
    if (waiting === undefined) return false;
    waiting.push(listener);
    return true;
  }
}
