import { Injectable, Logger } from '@nestjs/common';
import { CloseCode } from '../connections/close-code.js';
import { ConnectionPool } from '../connections/connection-pool.service.js';
import type { Connection } from '../connections/connection.js';
import { GatewayMetrics } from '../metrics/gateway.metrics.js';
import { OfflineMessageService } from '../offline/offline-message.service.js';
import type { ImMessage } from './im-message.js';
import { MessageSequence } from './message-sequence.js';

/** Inbox messages read per round of a drain: bounds memory for a 100,000-message inbox. */
export const DRAIN_BATCH_SIZE = 500;

export type RouteResult =
  | { readonly status: 'delivered' }
  | { readonly status: 'queued'; readonly durable: Promise<void> };

const DELIVERED: RouteResult = Object.freeze({ status: 'delivered' });

/**
 * Decides where each message goes: every live connection of the recipient, or, when there is
 * none, the durable offline inbox. Also owns a connection's arrival (inbox drain first) and
 * departure (what it never wrote goes back to the inbox).
 */
@Injectable()
export class MessageRouter {
  private readonly logger = new Logger(MessageRouter.name);
  private readonly sequence = new MessageSequence();

  constructor(
    private readonly pool: ConnectionPool,
    private readonly offline: OfflineMessageService,
    private readonly metrics: GatewayMetrics,
  ) {}

  /** Accepts a message from `from` and routes it. */
  send(from: string, to: string, body: string): RouteResult {
    const seq = this.sequence.next();
    return this.route({ id: seq.toString(36), seq, from, to, body, ts: Date.now() });
  }

  route(message: ImMessage): RouteResult {
    const live = this.pool.connectionsOf(message.to);
    if (live !== undefined) {
      for (const connection of live) connection.deliver(message);
      this.metrics.routedLocal.inc();
      return DELIVERED;
    }
    this.metrics.routedInbox.inc();
    return { status: 'queued', durable: this.offline.enqueue(message) };
  }

  /**
   * Registers a new connection and drains its inbox. Live messages that arrive meanwhile wait
   * behind the drain. Under the `replace` policy the older connections are closed with 4001, and
   * what they had not written yet returns to the inbox ahead of this drain.
   */
  attach(connection: Connection): void {
    const replaced = this.pool.add(connection);
    for (const old of replaced) {
      this.returnToInbox(old);
      old.close(CloseCode.REPLACED, 'replaced');
    }
    void this.drain(connection);
  }

  /** A connection closed: it leaves the pool; messages only it held go back to the inbox. */
  detach(connection: Connection): void {
    this.pool.remove(connection);
    if (this.pool.connectionsOf(connection.user) === undefined) this.returnToInbox(connection);
    else connection.takeUndelivered();
  }

  private returnToInbox(connection: Connection): void {
    const undelivered = connection.takeUndelivered();
    if (undelivered.length > 0) void this.offline.restore(undelivered);
  }

  private async drain(connection: Connection): Promise<void> {
    try {
      await this.offline.flushed();
      let afterSeq: number | undefined;
      while (connection.isOpen) {
        const batch = await this.offline.peek(connection.user, DRAIN_BATCH_SIZE, afterSeq);
        if (batch.length === 0 || !connection.isOpen) break;
        await this.writeAll(connection, batch);
        this.metrics.inboxDeliveries.inc(batch.length);
        void this.offline.remove(batch.map((m) => m.id));
        afterSeq = batch[batch.length - 1]!.seq;
      }
    } catch (error) {
      this.logger.warn(`Inbox drain for connection ${connection.id} stopped: ${String(error)}`);
    } finally {
      connection.finishDrain();
    }
  }

  /** Resolves once the last frame reached the socket; frames are written in order, so all did. */
  private writeAll(connection: Connection, batch: readonly ImMessage[]): Promise<void> {
    return new Promise((resolve, reject) => {
      const last = batch.length - 1;
      for (let i = 0; i < last; i++) connection.write(batch[i]!);
      connection.write(batch[last]!, (error) => (error ? reject(error) : resolve()));
    });
  }
}
