import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { CloseCode } from '../connections/close-code.js';
import { ConnectionPool } from '../connections/connection-pool.service.js';
import type { Connection, WriteListener } from '../connections/connection.js';
import type { SendListener } from '../messages/send-listener.js';
import { GatewayMetrics } from '../metrics/gateway.metrics.js';
import { InboxFullError, OfflineMessageService } from '../offline/offline-message.service.js';
import type { Delivery } from './delivery.js';
import { STORE_UNAVAILABLE_TEXT } from '../messages/error-code.js';
import type { ImMessage } from '../messages/im-message.js';
import { IdempotencyWindow } from './idempotency-window.js';
import { messageIdFor, PlainMessageIds } from './message-id.js';
import { MessageSequence } from './message-sequence.js';

/** Close reason when the inbox cannot be read for a connection's drain (code 1013). */
export const INBOX_UNAVAILABLE_REASON = 'inbox unavailable';

/** Inbox messages read per round of a drain: bounds memory for a 100,000-message inbox. */
export const DRAIN_BATCH_SIZE = 500;

/**
 * Decides where each message goes — every live connection of the recipient, or the durable
 * offline inbox — and follows it until it settles:
 * - a message a connection holds (written and unacknowledged, or waiting behind the drain or
 *   the in-flight window) is tracked as a `Delivery`;
 * - the first settlement (a JSON ack, or a plain-text write) makes it delivered: it leaves the
 *   inbox and a JSON sender hears `sent delivered` or a `receipt`;
 * - when its last holder closes unsettled it goes to the user's other connections or, with
 *   none, back to the inbox at its original place.
 * The seed's live path (plain text to a plain-text connection with nothing ahead) is untracked.
 */
@Injectable()
export class MessageRouter implements WriteListener, OnApplicationBootstrap {
  private readonly logger = new Logger(MessageRouter.name);
  private readonly sequence = new MessageSequence();
  private readonly plainIds = new PlainMessageIds();
  private readonly deliveries = new Map<string, Delivery>();
  private readonly idempotency: IdempotencyWindow;

  constructor(
    private readonly pool: ConnectionPool,
    private readonly offline: OfflineMessageService,
    private readonly metrics: GatewayMetrics,
  ) {
    this.idempotency = new IdempotencyWindow(offline, { reattach: (id, listener) => this.reattach(id, listener) });
  }

  /** New messages sort after everything already in the inbox, even if the clock went back. */
  async onApplicationBootstrap(): Promise<void> {
    this.sequence.advancePast(await this.offline.maxSeq());
    this.plainIds.startAbove(this.sequence.next(Date.now()));
  }

  /**
   * A plain-text frame: nobody to answer, so routing is all there is. The seed's case — every
   * live connection of the recipient is plain text with nothing queued ahead — writes the body
   * straight through, with no message record at all.
   */
  sendText(from: string, to: string, body: string, now: number): void {
    const live = this.pool.connectionsOf(to);
    if (live !== undefined && this.writeThrough(live, body)) {
      this.metrics.routed.local++;
      return;
    }
    const seq = this.sequence.next(now);
    this.route({ id: this.plainIds.next(), seq, from, to, body, ts: now }, undefined);
  }

  private writeThrough(live: ReadonlySet<Connection>, body: string): boolean {
    for (const connection of live) if (connection.acks || !connection.canWriteNow) return false;
    for (const connection of live) connection.writeBody(body);
    return true;
  }

  /**
   * A send with a client id (JSON protocol, admin API): idempotent per (from, client id). A
   * resend of a message still in flight waits for the same answer; one already answered gets that
   * answer again. `listener` hears `queued` or `delivered`.
   */
  async sendTracked(from: string, clientId: string, to: string, body: string, listener: SendListener): Promise<void> {
    const id = messageIdFor(from, clientId);
    if (!(await this.idempotency.admit(from, clientId, id, listener))) return;
    const now = Date.now();
    const seq = this.sequence.next(now);
    this.route({ id, seq, from, to, body, ts: now, clientId }, listener);
  }

  /**
   * The client processed these messages. Unknown ids (already settled, or never held here) are
   * ignored. Answers how many messages this settled.
   */
  acknowledge(connection: Connection, ids: readonly string[]): number {
    let settled = 0;
    for (const id of ids) if (connection.acknowledge(id)) settled++;
    return settled;
  }

  /** A slow consumer is closing: what it held goes to the user's other connections or the inbox now. */
  overloaded(connection: Connection): void {
    this.detach(connection);
  }

  /** A connection's client acked a message it held, or (plain text) it was written out. */
  settled(_connection: Connection, message: ImMessage): void {
    this.settle(message.id);
  }

  /**
   * Registers a new connection and drains its inbox; live messages wait behind the drain. Under
   * the `replace` policy the older connections are closed with 4001 and what they held moves to
   * the new one, behind its drain.
   */
  attach(connection: Connection): void {
    const replaced = this.pool.add(connection);
    for (const old of replaced) {
      this.detach(old);
      old.close(CloseCode.REPLACED, 'replaced');
    }
    void this.drain(connection);
  }

  /** A connection is gone: everything it held and did not settle is handed on. */
  detach(connection: Connection): void {
    this.pool.remove(connection);
    for (const message of connection.takeUnsettled()) this.release(message);
  }

  private route(message: ImMessage, notify: SendListener | undefined): void {
    const live = this.pool.connectionsOf(message.to);
    if (live === undefined) {
      this.queue(message, notify);
      return;
    }
    this.metrics.routed.local++;
    let delivery: Delivery | undefined;
    let writtenUntracked = false;
    for (const connection of live) {
      if (notify === undefined && !connection.acks && connection.canWriteNow) {
        connection.writeUntracked(message);
        writtenUntracked = true;
        continue;
      }
      delivery ??= this.track(message, notify);
      delivery.holders++;
      connection.hold(message);
    }
    // One device of the user already has it; the others' copies are a courtesy.
    if (writtenUntracked && delivery !== undefined) delivery.done = true;
  }

  /** Into the inbox: a new message, or one accepted earlier that nobody settled. */
  private queue(message: ImMessage, notify: SendListener | undefined): void {
    this.metrics.routed.inbox++;
    if (notify === undefined) {
      this.offline.enqueueQuietly(message);
      return;
    }
    const { id, clientId } = message;
    const listeners = this.idempotency.startQueuing(id, notify);
    if (listeners === undefined) return;
    this.offline
      .enqueue(message)
      .then(
        () => {
          for (const listener of listeners) listener.confirm(clientId!, id, 'queued');
        },
        (error: unknown) => {
          const failure = error instanceof InboxFullError ? 'INBOX_FULL' : 'STORE_UNAVAILABLE';
          const reason = error instanceof InboxFullError ? error.message : STORE_UNAVAILABLE_TEXT;
          for (const listener of listeners) listener.fail(clientId!, failure, reason);
        },
      )
      .finally(() => this.idempotency.finishQueuing(id));
  }

  private track(message: ImMessage, notify: SendListener | undefined): Delivery {
    let delivery = this.deliveries.get(message.id);
    if (delivery === undefined) {
      delivery = { message, holders: 0, done: false, fromInbox: false, notify };
      this.deliveries.set(message.id, delivery);
    } else if (notify !== undefined) {
      delivery.notify = notify;
    }
    return delivery;
  }

  /** Points an in-flight message's `sent` answer at the connection that resent it. */
  private reattach(id: string, listener: SendListener): boolean {
    const delivery = this.deliveries.get(id);
    if (delivery === undefined || delivery.done) return false;
    delivery.notify = listener;
    return true;
  }

  private settle(id: string): void {
    const delivery = this.deliveries.get(id);
    if (delivery === undefined) return;
    if (--delivery.holders <= 0) this.deliveries.delete(id);
    if (delivery.done) return;
    delivery.done = true;
    this.delivered(delivery);
  }

  private delivered({ message, fromInbox, notify }: Delivery): void {
    this.metrics.deliveryLatency.observe((Date.now() - message.ts) / 1000);
    if (fromInbox) {
      this.metrics.inboxDeliveries.inc();
      void this.offline.remove(message);
    }
    if (message.clientId === undefined) return;
    // The record makes a later resend answer `delivered` instead of routing again. It is written
    // in the next group commit and the answer does not wait for it; until it is durable,
    // the idempotency window answers a resend. A crash before the commit loses the record: the resend after
    // the restart is routed again, and the recipient's SDK drops the copy.
    const recorded = this.idempotency.startRecording(message.id);
    this.offline.recordSent(message.from, message.clientId, 'delivered').then(recorded, recorded);
    notify?.confirm(message.clientId, message.id, 'delivered');
    if (!fromInbox) return;
    for (const connection of this.pool.connectionsOf(message.from) ?? []) {
      if (connection !== notify) connection.receipt(message.id);
    }
  }

  /** The last holder let go without settling: hand the message to the user's other connections, or the inbox. */
  private release(message: ImMessage): void {
    const delivery = this.deliveries.get(message.id);
    if (delivery === undefined) return;
    if (--delivery.holders > 0) return;
    this.deliveries.delete(message.id);
    if (delivery.done || delivery.fromInbox) return;
    const live = this.pool.connectionsOf(message.to);
    if (live === undefined) {
      this.queue(message, delivery.notify);
      return;
    }
    const again = this.track(message, delivery.notify);
    for (const connection of live) {
      again.holders++;
      connection.hold(message);
    }
  }

  private async drain(connection: Connection): Promise<void> {
    if (!this.offline.mayHaveMessages(connection.user)) {
      connection.finishDrain();
      return;
    }
    try {
      await this.offline.flushed();
      let afterSeq: number | undefined;
      while (connection.isOpen) {
        await connection.room();
        const room = connection.window - connection.unacked.size;
        if (!connection.isOpen || room <= 0) continue;
        // Sized by bytes too: a batch never overfills the window, whatever the messages weigh.
        const limit = Math.min(DRAIN_BATCH_SIZE, room);
        const batch = await this.offline.peek(connection.user, limit, afterSeq, connection.roomBytes);
        if (batch.length === 0 && afterSeq === undefined) this.offline.noteEmpty(connection.user);
        if (batch.length === 0 || !connection.isOpen) break;
        for (const message of batch) this.writeFromInbox(connection, message);
        afterSeq = batch[batch.length - 1]!.seq;
      }
    } catch (error) {
      // Live messages wait behind the drain; delivering them without the backlog would break
      // the order, so the client is sent away to reconnect and drain again.
      this.logger.warn(`Inbox drain for connection ${connection.id} failed, closing it with 1013: ${String(error)}`);
      connection.close(CloseCode.TRY_AGAIN_LATER, INBOX_UNAVAILABLE_REASON);
    } finally {
      connection.finishDrain();
    }
  }

  private writeFromInbox(connection: Connection, message: ImMessage): void {
    const delivery = this.track(message, undefined);
    if (delivery.done || connection.unacked.has(message.id)) return;
    delivery.fromInbox = true;
    delivery.holders++;
    connection.writeHeld(message);
  }
}
