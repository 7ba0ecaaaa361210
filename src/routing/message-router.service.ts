import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { NodeBus, type BusEnvelope } from '../cluster/node-bus.js';
import { Presence } from '../cluster/presence.js';
import { CloseCode } from '../connections/close-code.js';
import { ConnectionPool } from '../connections/connection-pool.service.js';
import type { Connection, WriteListener } from '../connections/connection.js';
import type { DeliveryStatus, SendListener } from '../messages/send-listener.js';
import { GatewayMetrics } from '../metrics/gateway.metrics.js';
import { InboxFullError, OfflineMessageService } from '../offline/offline-message.service.js';
import type { Delivery } from './delivery.js';
import { STORE_UNAVAILABLE_TEXT } from '../messages/error-code.js';
import type { ImMessage } from '../messages/im-message.js';
import { IdempotencyWindow } from './idempotency-window.js';
import { messageIdFor, PlainMessageIds } from './message-id.js';
import { MessageSequence } from './message-sequence.js';
import { RecentIds } from './recent-ids.js';
import { RecipientLanes } from './recipient-lanes.js';
import { RemoteOutcome } from './remote-outcome.js';

/** A send with a client id, as `sendTracked` takes it. */
interface TrackedSend {
  readonly from: string;
  readonly clientId: string;
  readonly to: string;
  readonly body: string;
  readonly listener: SendListener;
  /** Its place among its connection's sends (`SendListener.holdsBack`); absent for the admin API. */
  readonly order?: number;
}

/** A send that waits behind an earlier one of its sender, with the caller's promise. */
interface WaitingSend {
  readonly send: TrackedSend;
  resolve(): void;
  reject(error: unknown): void;
}

/** Close reason when the inbox cannot be read for a connection's drain (code 1013). */
export const INBOX_UNAVAILABLE_REASON = 'inbox unavailable';

/** Close reason when a connection cannot be registered in the cluster's presence (code 1013). */
export const CLUSTER_UNAVAILABLE_REASON = 'cluster unavailable';

/**
 * How long a sender waits for another node to answer for a message delivered there; past it the
 * sender hears `queued`, which is true: the message is in the inbox before it is sent on.
 */
export const REMOTE_ANSWER_MS = 10_000;

/**
 * In a cluster, how often every connected user's inbox is read again for messages that reached it
 * instead of the connection (an envelope lost with a node, a dropped subscription): the net under
 * everything else, which delivers what slipped through within this time.
 */
export const CATCH_UP_INTERVAL_MS = 60_000;

/**
 * The periodic catch-up leaves messages younger than this alone: they may still be on their way
 * here over the bus, and writing them ahead of that would break the order.
 */
const CATCH_UP_MIN_AGE_MS = 2 * REMOTE_ANSWER_MS;

/** How long a delivered message id is remembered, so that a late copy of it is not written again. */
const RECENTLY_DELIVERED_MS = 30_000;

/** Why a send was refused because an earlier one of its connection was (`SendListener.holdsBack`). */
const HELD_BACK_TEXT = 'an earlier send of this connection was refused: send it again first, then this one';

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
 *
 * In a cluster (`presence.shared`) every message first asks presence where its recipient is.
 * A tracked message for a user held by other nodes goes into the inbox first, then over the bus
 * to each of those nodes, which deliver it as they would from a drain and remove it once a device
 * has it; a lost envelope leaves it in the inbox, never lost. Plain text goes over the bus alone
 * (best effort, as on the live path here); the receiving node stores it if the user has gone.
 */
@Injectable()
export class MessageRouter implements WriteListener, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(MessageRouter.name);
  private readonly sequence = new MessageSequence();
  private readonly plainIds = new PlainMessageIds();
  private readonly deliveries = new Map<string, Delivery>();
  private readonly idempotency: IdempotencyWindow;
  /** Senders here waiting for another node's answer, by message id. */
  private readonly remoteOutcomes = new Map<string, RemoteOutcome>();
  private readonly shared: boolean;
  private readonly nodeId: string;
  /** Messages between acceptance and their routing outcome, in a cluster. */
  private routing = 0;
  private readonly idleWaiters: Array<() => void> = [];
  private readonly recentlyDelivered = new RecentIds(RECENTLY_DELIVERED_MS);
  private catchUpTimer: NodeJS.Timeout | undefined;
  /**
   * Per sender with a send waiting for the store to say whether it is new, the sends that came
   * after it, in order: they wait instead of overtaking it.
   */
  private readonly waitingSenders = new Map<string, WaitingSend[]>();
  private readonly lanes = new RecipientLanes((error) => this.logger.warn(`Routing outcome failed: ${String(error)}`));

  constructor(
    private readonly pool: ConnectionPool,
    private readonly offline: OfflineMessageService,
    private readonly metrics: GatewayMetrics,
    private readonly presence: Presence,
    private readonly bus: NodeBus,
  ) {
    this.idempotency = new IdempotencyWindow(offline, { reattach: (id, listener) => this.reattach(id, listener) });
    this.shared = presence.shared;
    this.nodeId = presence.nodeId;
    bus.onEnvelope((envelope) => this.onEnvelope(envelope));
    presence.onLost(() => this.presenceLost());
  }

  /**
   * This node's presence can no longer be trusted: senders elsewhere may have stored its users'
   * messages instead of sending them here. Every connection is sent away with 1013 to reconnect
   * (here or elsewhere) and drain its inbox, which keeps the order; what they held goes back to
   * the inbox, or, with Redis away, stays unconfirmed for its sender to resend.
   */
  private presenceLost(): void {
    const connections = [...this.pool.connections()];
    if (connections.length === 0) return;
    this.logger.warn(
      `Cluster presence lost: closing ${connections.length} connections with 1013 so that they reconnect and drain`,
    );
    for (const connection of connections) {
      this.detach(connection);
      connection.close(CloseCode.TRY_AGAIN_LATER, CLUSTER_UNAVAILABLE_REASON);
    }
  }

  /** New messages sort after everything already in the inbox, even if the clock went back. */
  async onApplicationBootstrap(): Promise<void> {
    this.sequence.advancePast(await this.offline.maxSeq());
    this.plainIds.startAbove(this.sequence.next(Date.now()), this.shared ? this.nodeId : undefined);
    if (this.shared) {
      this.catchUpTimer = setInterval(() => {
        const before = Date.now() - CATCH_UP_MIN_AGE_MS;
        for (const connection of this.pool.connections()) void this.catchUp(connection, (m) => m.ts < before);
      }, CATCH_UP_INTERVAL_MS);
      this.catchUpTimer.unref();
    }
  }

  onApplicationShutdown(): void {
    clearInterval(this.catchUpTimer);
  }

  /**
   * A plain-text frame: nobody to answer, so routing is all there is. The seed's case — every
   * live connection of the recipient is plain text with nothing queued ahead — writes the body
   * straight through, with no message record at all.
   */
  sendText(from: string, to: string, body: string, now: number): void {
    if (this.shared) {
      void this.routeShared(
        { id: this.plainIds.next(), seq: this.sequence.next(now), from, to, body, ts: now },
        undefined,
      );
      return;
    }
    const live = this.pool.connectionsOf(to);
    if (live !== undefined && this.writeThrough(live, body)) {
      this.metrics.routed.local++;
      this.metrics.deliveryLatency.immediate++;
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
   * answer again. `listener` hears `queued` or `delivered`. A new client id (nearly every send) is
   * routed in this turn, with no promise; one the store must be asked about answers a promise.
   * When the store cannot be read, `listener` hears STORE_UNAVAILABLE; the promise rejects only
   * on a failure nobody answered.
   */
  sendTracked(
    from: string,
    clientId: string,
    to: string,
    body: string,
    listener: SendListener,
    order?: number,
  ): Promise<void> | void {
    const send = { from, clientId, to, body, listener, order };
    const waiting = this.waitingSenders.get(from);
    // An earlier send of this sender waits for the store: this one must not overtake it.
    if (waiting !== undefined) return new Promise((resolve, reject) => waiting.push({ send, resolve, reject }));
    return this.admitNow(send);
  }

  private admitNow(send: TrackedSend): Promise<void> | void {
    const { from, clientId, to, listener } = send;
    const id = messageIdFor(from, clientId);
    const sendOn = this.shared ? () => void this.sendOnStored(to, id) : undefined;
    const admitted = this.idempotency.admit(from, clientId, id, listener, sendOn);
    if (admitted === false) return;
    if (admitted === true) {
      try {
        return this.accept(id, send);
      } catch (error) {
        return Promise.reject(error);
      }
    }
    const routed = admitted.then(
      (ok) => (ok ? this.accept(id, send) : undefined),
      (error: unknown) => this.unread(send, error),
    );
    // With every send read from the store, reads resolve in call order and so do the sends.
    if (!this.offline.decidesNewAtOnce) return routed;
    // Otherwise the sender's next sends, which may be decided at once, wait behind this one.
    this.waitingSenders.set(from, []);
    const release = (): void => this.releaseSender(from);
    routed.then(release, release);
    return routed;
  }

  /** The send a sender's others waited behind is routed or refused: they go, in order. */
  private releaseSender(from: string): void {
    const queue = this.waitingSenders.get(from) ?? [];
    this.waitingSenders.delete(from);
    for (let i = 0; i < queue.length; i++) {
      const { send, resolve, reject } = queue[i]!;
      const result = this.admitNow(send);
      if (result === undefined) resolve();
      else result.then(resolve, reject);
      const again = this.waitingSenders.get(from);
      if (again !== undefined) {
        // That one waits for the store in turn: the rest wait behind it.
        again.push(...queue.slice(i + 1));
        return;
      }
    }
  }

  /**
   * The store could not say whether this send is new: it is refused, before the sends behind it
   * are let go, so that the refusal holds them back too (`SendListener.holdsBack`).
   */
  private unread({ from, clientId, listener, order }: TrackedSend, error: unknown): void {
    this.logger.warn(`Send ${clientId} from ${from} refused: its record could not be read (${String(error)})`);
    listener.fail(clientId, 'STORE_UNAVAILABLE', STORE_UNAVAILABLE_TEXT, order);
  }

  /** A send admitted as new: numbered and routed now, unless an earlier send of its sender was refused. */
  private accept(id: string, { from, clientId, to, body, listener, order }: TrackedSend): Promise<void> | void {
    if (this.heldBack(clientId, listener, order)) return;
    const now = Date.now();
    const message = { id, seq: this.sequence.next(now), from, to, body, ts: now, clientId };
    if (this.shared) return this.routeShared(message, listener, order);
    this.route(message, listener);
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
    if (this.shared) {
      void this.attachShared(connection);
      return;
    }
    void this.presence.add(connection.user, this.pool.connectionsOf(connection.user)?.size ?? 1);
    void this.drain(connection);
  }

  /**
   * The user is in presence before its inbox is read: a sender that wrote to the inbox after the
   * read saw this node in presence and sends the message on here (`queue`, then `recheck`).
   */
  private async attachShared(connection: Connection): Promise<void> {
    let others: string[];
    try {
      // A node that does not hear its bus yet (it is resubscribing) would miss what is sent to it.
      if (!this.bus.isHealthy()) throw new Error('the node bus is not subscribed');
      await this.presence.add(connection.user, this.pool.connectionsOf(connection.user)?.size ?? 1);
      others = (await this.presence.nodesOf(connection.user)).filter((node) => node !== this.nodeId);
    } catch (error) {
      this.logger.warn(
        `Presence of connection ${connection.id} could not be registered, closing it with 1013: ${String(error)}`,
      );
      connection.close(CloseCode.TRY_AGAIN_LATER, CLUSTER_UNAVAILABLE_REASON);
      connection.finishDrain();
      return;
    }
    if (this.pool.replacesOlder) for (const node of others) this.bus.send(node, { t: 'replace', u: connection.user });
    await this.drain(connection);
  }

  /** A connection is gone: everything it held and did not settle is handed on. */
  detach(connection: Connection): void {
    if (this.pool.remove(connection)) {
      const left = this.pool.connectionsOf(connection.user)?.size ?? 0;
      const update = left === 0 ? this.presence.remove(connection.user) : this.presence.add(connection.user, left);
      update.catch((error: unknown) => {
        // The entry runs out with PRESENCE_TTL_SECONDS; meanwhile senders find nobody here and use
        // the inbox. Expected while Redis is away, whose loss is logged once, where it is seen.
        this.logger.debug(`Presence of connection ${connection.id} could not be updated: ${String(error)}`);
      });
    }
    for (const message of connection.takeUnsettled()) this.release(message);
  }

  /** Closes every connection of `user` held here, as a `replace` or a kick decided on another node. */
  closeLocal(user: string, code: number, reason: string): number {
    const open = [...(this.pool.connectionsOf(user) ?? [])].filter((c) => c.isOpen);
    for (const connection of open) {
      // What it held goes on now, not after a close handshake a dead peer may never answer.
      this.detach(connection);
      connection.close(code, reason);
    }
    return open.length;
  }

  /** Asks every other node holding `user` to close its connections with 4003; answers how many nodes. */
  async kickElsewhere(user: string): Promise<number> {
    if (!this.shared) return 0;
    const others = (await this.presence.nodesOf(user)).filter((node) => node !== this.nodeId);
    for (const node of others) this.bus.send(node, { t: 'kick', u: user });
    return others.length;
  }

  /** Connections of `user` on other nodes (none outside a cluster): for MAX_CONNECTIONS_PER_USER. */
  async connectionsElsewhere(user: string): Promise<number> {
    if (!this.shared) return 0;
    let count = 0;
    for (const [node, connections] of Object.entries(await this.presence.connectionsOf(user))) {
      if (node !== this.nodeId) count += connections;
    }
    return count;
  }

  /** Every node holding a connection of `user` (this one alone, outside a cluster). */
  nodesOf(user: string): Promise<string[]> {
    return this.presence.nodesOf(user);
  }

  private route(message: ImMessage, notify: SendListener | undefined): void {
    const live = this.pool.connectionsOf(message.to);
    if (live === undefined) {
      this.queue(message, notify);
      return;
    }
    this.metrics.routed.local++;
    this.deliverLocal(message, notify, live);
  }

  private deliverLocal(message: ImMessage, notify: SendListener | undefined, live: ReadonlySet<Connection>): void {
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
    if (!writtenUntracked) return;
    this.metrics.deliveryLatency.immediate++;
    // One device of the user already has it; the others' copies are a courtesy.
    if (delivery !== undefined) delivery.done = true;
  }

  /**
   * Routing in a cluster: presence says which nodes hold the recipient. Nobody: the inbox, then
   * presence again (`recheck`). Only this node: as alone. Others too: a tracked message goes into
   * the inbox first, then to each of them (and to the connections here); plain text goes to each
   * of them, best effort. Outcomes are applied in accept order per recipient (`lanes`).
   */
  private routeShared(message: ImMessage, notify: SendListener | undefined, order?: number): Promise<void> {
    return this.inLane(message.to, message.id, () => this.outcomeShared(message, notify, order));
  }

  /**
   * Takes the next place in `to`'s lane now, finds the outcome (the Redis round trips) and applies
   * it once every message ahead in the lane has had its own.
   */
  private async inLane(to: string, id: string, outcome: () => Promise<(() => void) | undefined>): Promise<void> {
    const apply = this.lanes.reserve(to);
    this.routing++;
    try {
      apply(await outcome());
    } catch (error) {
      apply();
      this.logger.warn(`Routing message ${id} failed: ${String(error)}`);
    } finally {
      if (--this.routing === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }

  /**
   * Resolves once every message accepted so far is routed and every inbox write is committed
   * (or after `timeoutMs`): the shutdown waits for it before this node leaves the cluster.
   */
  async idle(timeoutMs: number): Promise<void> {
    const routed = this.routing === 0 ? Promise.resolve() : new Promise<void>((r) => this.idleWaiters.push(r));
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)));
    await Promise.race([routed.then(() => this.offline.flushed()), deadline]);
    clearTimeout(timer);
  }

  /** What to do with `message` once the lane reaches it; the Redis round trips happen here. */
  private async outcomeShared(
    message: ImMessage,
    notify: SendListener | undefined,
    order?: number,
  ): Promise<(() => void) | undefined> {
    let nodes: string[];
    try {
      nodes = await this.presence.nodesOf(message.to);
    } catch (error) {
      this.unavailable(message, notify, error, order);
      return undefined;
    }
    // An earlier send of the same connection was refused while this one's presence was read.
    if (this.heldBack(message.clientId!, notify, order)) return undefined;
    const others = nodes.filter((node) => node !== this.nodeId);
    if (others.length === 0) {
      if (this.pool.connectionsOf(message.to) !== undefined) {
        return () => {
          if (!this.heldBack(message.clientId!, notify, order)) this.route(message, notify);
        };
      }
      return this.storeShared(message, notify, order);
    }
    this.metrics.routed.remote++;
    if (notify === undefined) {
      return () => {
        for (const node of others) this.bus.send(node, { t: 'msg', m: message, stored: false });
        const live = this.pool.connectionsOf(message.to);
        if (live !== undefined) this.deliverLocal(message, undefined, live);
      };
    }
    const { id, clientId } = message;
    const listeners = await this.storeTracked(message, notify, order);
    if (listeners === undefined) return undefined;
    // Presence again, after the write: a node that took the user meanwhile may have drained
    // the inbox before the write landed, and must get the message from here.
    const fresh = await this.presence.nodesOf(message.to).then(
      (now) => now.filter((node) => node !== this.nodeId),
      () => others,
    );
    return () => {
      const here = this.pool.connectionsOf(message.to);
      const holders = fresh.length + (here === undefined ? 0 : 1);
      if (holders === 0) {
        for (const listener of listeners) listener.confirm(clientId!, id, 'queued');
        return;
      }
      const outcome = new RemoteOutcome(listeners, clientId!, id, holders, REMOTE_ANSWER_MS, () =>
        this.remoteOutcomes.delete(id),
      );
      this.remoteOutcomes.set(id, outcome);
      for (const node of fresh) this.bus.send(node, { t: 'msg', m: message, stored: true, o: this.nodeId });
      if (here !== undefined) this.deliverStored(message, outcome, here);
    };
  }

  /**
   * Into the inbox for a user nobody held, then presence again: a node that took the user
   * meanwhile may have read the inbox before this write, so the message is sent on to it.
   */
  private async storeShared(
    message: ImMessage,
    notify: SendListener | undefined,
    order?: number,
  ): Promise<(() => void) | undefined> {
    this.metrics.routed.inbox++;
    if (notify === undefined) {
      this.offline.enqueueQuietly(message);
      await this.offline.flushed();
    } else {
      const listeners = await this.storeTracked(message, notify, order);
      if (listeners === undefined) return undefined;
      for (const listener of listeners) listener.confirm(message.clientId!, message.id, 'queued');
    }
    return this.recheck(message);
  }

  /**
   * A message just stored: where presence now finds its recipient, it is sent on (and delivered
   * to connections here). A second copy (a drain did see it) is dropped by message id.
   */
  private async recheck(message: ImMessage): Promise<(() => void) | undefined> {
    let nodes: string[];
    try {
      nodes = await this.presence.nodesOf(message.to);
    } catch {
      return undefined; // Stored: the next drain delivers it.
    }
    if (nodes.length === 0) return undefined;
    return () => {
      for (const node of nodes) {
        if (node !== this.nodeId) this.bus.send(node, { t: 'msg', m: message, stored: true });
        else {
          const live = this.pool.connectionsOf(message.to);
          if (live !== undefined) this.deliverStored(message, undefined, live);
        }
      }
    };
  }

  /**
   * Refuses send `clientId` when its sender must not have it routed now (`SendListener.holdsBack`):
   * an earlier send of the same connection was refused, or the connection closed. It comes again
   * behind the earlier one; nothing of it was stored. False, and nothing said, when it may go on.
   * Only a send numbered by its connection (`order`) can be held back, never the admin API's.
   */
  private heldBack(clientId: string, notify: SendListener | undefined, order: number | undefined): boolean {
    if (order === undefined || notify?.holdsBack?.(order) !== true) return false;
    notify.fail(clientId, 'STORE_UNAVAILABLE', HELD_BACK_TEXT);
    return true;
  }

  /** Presence could not be read: a JSON sender is told to retry; plain text is counted as dropped. */
  private unavailable(message: ImMessage, notify: SendListener | undefined, error: unknown, order?: number): void {
    if (notify !== undefined) {
      notify.fail(message.clientId!, 'STORE_UNAVAILABLE', STORE_UNAVAILABLE_TEXT, order);
      return;
    }
    this.metrics.framesDropped.labels('store_unavailable').inc();
    this.logger.warn(`Dropped a plain-text message: presence could not be read (${String(error)})`);
  }

  /** A message the inbox already holds, for connections here: delivered as from a drain, once per connection. */
  private deliverStored(message: ImMessage, notify: SendListener | undefined, live: ReadonlySet<Connection>): void {
    if (this.recentlyDelivered.has(message.id)) {
      notify?.confirm(message.clientId!, message.id, 'delivered');
      return;
    }
    const delivery = this.track(message, notify);
    if (delivery.done) return;
    delivery.fromInbox = true;
    delivery.origin ||= notify !== undefined;
    for (const connection of live) {
      if (connection.holds(message.id)) continue;
      delivery.holders++;
      connection.hold(message);
    }
  }

  /** An envelope from another node. */
  private onEnvelope(envelope: BusEnvelope): void {
    switch (envelope.t) {
      case 'msg':
        this.onRemoteMessage(envelope.m, envelope.stored, envelope.o);
        return;
      case 'ans':
        this.onRemoteAnswer(envelope.id, envelope.cid, envelope.f, envelope.s);
        return;
      case 'rcpt':
        for (const connection of this.pool.connectionsOf(envelope.u) ?? []) connection.receipt(envelope.id);
        return;
      case 'replace':
        this.closeLocal(envelope.u, CloseCode.REPLACED, 'replaced');
        return;
      case 'poke':
        // From a node of an earlier version, during a rolling deploy: this one sends on itself.
        for (const connection of this.pool.connectionsOf(envelope.u) ?? []) {
          void this.catchUp(connection, (m) => m.id === envelope.id);
        }
        return;
      case 'kick':
        this.closeLocal(envelope.u, CloseCode.KICKED, 'kicked');
        return;
      default: {
        const unknown: never = envelope;
        this.logger.warn(
          `Node bus: ignored an envelope of unknown type ${JSON.stringify((unknown as { t?: unknown }).t)}`,
        );
      }
    }
  }

  private onRemoteMessage(message: ImMessage, stored: boolean, origin: string | undefined): void {
    const live = this.pool.connectionsOf(message.to);
    if (!stored) {
      // Plain text sent on to this node: stored here if its recipient has gone meanwhile.
      if (live === undefined) this.queue(message, undefined);
      else this.deliverLocal(message, undefined, live);
      return;
    }
    const answer = origin === undefined ? undefined : this.answerTo(origin, message);
    if (live === undefined) {
      answer?.confirm(message.clientId!, message.id, 'queued');
      return;
    }
    this.deliverStored(message, answer, live);
  }

  /** Tells the origin node what became of a message it sent on here. */
  private answerTo(origin: string, message: ImMessage): SendListener {
    const { id, from } = message;
    return {
      confirm: (cid: string, _id: string, s: DeliveryStatus) =>
        this.bus.send(origin, { t: 'ans', id, cid, f: from, s }),
      fail: () => undefined,
    };
  }

  private onRemoteAnswer(id: string, clientId: string, from: string, status: DeliveryStatus): void {
    const outcome = this.remoteOutcomes.get(id);
    if (outcome !== undefined) {
      outcome.confirm(clientId, id, status);
      return;
    }
    // The sender was told `queued` already (the answer came late): a receipt tells it the rest.
    if (status === 'delivered') for (const connection of this.pool.connectionsOf(from) ?? []) connection.receipt(id);
  }

  /** Tells every waiting sender why its message was not stored. */
  private refused(message: ImMessage, listeners: readonly SendListener[], error: unknown, order?: number): void {
    const failure = error instanceof InboxFullError ? 'INBOX_FULL' : 'STORE_UNAVAILABLE';
    const reason = error instanceof InboxFullError ? error.message : STORE_UNAVAILABLE_TEXT;
    // `order` is the first listener's send; a resend that joined it was a send of its own.
    for (const [i, listener] of listeners.entries()) {
      listener.fail(message.clientId!, failure, reason, i === 0 ? order : undefined);
    }
  }

  /** Into the inbox: a new message, or one accepted earlier that nobody settled. */
  private queue(message: ImMessage, notify: SendListener | undefined): void {
    this.metrics.routed.inbox++;
    if (notify === undefined) {
      this.offline.enqueueQuietly(message);
      if (this.shared) void this.offline.flushed().then(() => this.recheckNow(message));
      return;
    }
    void this.storeTracked(message, notify).then((listeners) => {
      if (listeners === undefined) return;
      for (const listener of listeners) listener.confirm(message.clientId!, message.id, 'queued');
      if (this.shared) void this.recheckNow(message);
    });
  }

  /**
   * Writes a tracked message (with its sender's record) to the inbox. Answers everyone waiting
   * for its `sent`, once it is durable; `undefined` when it was not stored (they were told why)
   * or a write of it was already under way (`notify` joined that one).
   */
  private async storeTracked(
    message: ImMessage,
    notify: SendListener,
    order?: number,
  ): Promise<SendListener[] | undefined> {
    const listeners = this.idempotency.startQueuing(message.id, notify);
    if (listeners === undefined) return undefined;
    try {
      await this.offline.enqueue(message);
      return listeners;
    } catch (error) {
      this.refused(message, listeners, error, order);
      return undefined;
    } finally {
      this.idempotency.finishQueuing(message.id);
    }
  }

  /** `recheck` for a message returned to the inbox (its holder let it go), outside any lane. */
  private async recheckNow(message: ImMessage): Promise<void> {
    (await this.recheck(message))?.();
  }

  private track(message: ImMessage, notify: SendListener | undefined): Delivery {
    let delivery = this.deliveries.get(message.id);
    if (delivery === undefined) {
      delivery = { message, holders: 0, done: false, fromInbox: false, origin: false, notify };
      this.deliveries.set(message.id, delivery);
    } else if (notify !== undefined) {
      delivery.notify = notify;
    }
    return delivery;
  }

  /** Points an in-flight message's `sent` answer at the connection that resent it. */
  private reattach(id: string, listener: SendListener): boolean {
    const outcome = this.remoteOutcomes.get(id);
    if (outcome !== undefined) {
      outcome.add(listener);
      return true;
    }
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

  private delivered(delivery: Delivery): void {
    const { message, fromInbox } = delivery;
    if (this.shared) this.recentlyDelivered.add(message.id);
    let { origin, notify } = delivery;
    // Sent on to other nodes from here, and now delivered here (its user moved): answered here.
    const outcome = notify === undefined ? this.remoteOutcomes.get(message.id) : undefined;
    if (outcome !== undefined) {
      notify = outcome;
      origin = true;
    }
    this.metrics.deliveryLatency.record((Date.now() - message.ts) / 1000);
    if (fromInbox) {
      this.metrics.inboxDelivered++;
      void this.offline.remove(message);
    }
    if (message.clientId === undefined) return;
    // The record makes a later resend answer `delivered` instead of routing again. It is committed
    // in the background (within BACKGROUND_COMMIT_MS) and the answer does not wait for it; until it
    // is durable, the write carrying it answers a resend (`isRecordingDelivered`). A crash before the commit loses the
    // record: the resend after the restart is routed again, and the recipient's SDK drops the copy.
    void this.offline.recordSent(message.from, message.clientId, 'delivered');
    notify?.confirm(message.clientId, message.id, 'delivered');
    // A sender waiting on its node hears `delivered` from it; receipts are for those told `queued`.
    if (!fromInbox || origin) return;
    for (const connection of this.pool.connectionsOf(message.from) ?? []) {
      if (connection !== notify) connection.receipt(message.id);
    }
    if (this.shared) void this.receiptElsewhere(message);
  }

  /** Receipts for the sender's connections on other nodes. */
  private async receiptElsewhere({ id, from }: ImMessage): Promise<void> {
    try {
      for (const node of await this.presence.nodesOf(from)) {
        if (node !== this.nodeId) this.bus.send(node, { t: 'rcpt', u: from, id });
      }
    } catch {
      // A receipt is a courtesy: the sender was told `queued`, which stays true.
    }
  }

  /** The last holder let go without settling: hand the message to the user's other connections, or the inbox. */
  private release(message: ImMessage): void {
    const delivery = this.deliveries.get(message.id);
    if (delivery === undefined) return;
    if (--delivery.holders > 0) return;
    this.deliveries.delete(message.id);
    if (delivery.done) return;
    if (delivery.fromInbox) {
      // Still in the inbox, where it stays; a sender waiting on its node hears so.
      if (delivery.origin && message.clientId !== undefined)
        delivery.notify?.confirm(message.clientId, message.id, 'queued');
      return;
    }
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

  /**
   * A resend found its first copy stored as `queued`: the node that stored it may have died before
   * sending it on. This node reads it from the recipient's inbox and sends it on itself, in the
   * recipient's lane, so that it arrives ahead of whatever its sender sends next. Not found (it
   * was delivered meanwhile, or lies beyond the first `DRAIN_BATCH_SIZE` of a long inbox): the
   * periodic catch-up is the net.
   */
  private sendOnStored(to: string, id: string): Promise<void> {
    return this.inLane(to, id, async () => {
      const message = (await this.offline.peek(to, DRAIN_BATCH_SIZE)).find((m) => m.id === id);
      return message === undefined ? undefined : this.recheck(message);
    });
  }

  /**
   * Reads the inbox of a connection whose drain is over and hands it what waits there, passes
   * `wanted` and it does not hold: messages that reached the inbox instead of this connection.
   * They arrive after newer live ones; they would otherwise wait for the user's next connection,
   * or expire.
   */
  private async catchUp(connection: Connection, wanted: (message: ImMessage) => boolean): Promise<void> {
    if (connection.draining || !connection.isOpen) return;
    let waiting: ImMessage[];
    try {
      waiting = await this.offline.peek(connection.user, DRAIN_BATCH_SIZE);
    } catch {
      return; // Redis is away; presence loss sends the connection to drain anyway.
    }
    if (!connection.isOpen || !this.pool.connectionsOf(connection.user)?.has(connection)) return;
    const missed = waiting.filter((m) => wanted(m) && !connection.holds(m.id) && !this.recentlyDelivered.has(m.id));
    if (missed.length > 0) {
      this.logger.log(`Catch-up: ${missed.length} messages from the inbox for connection ${connection.id}`);
      for (const message of missed) this.deliverStored(message, undefined, new Set([connection]));
    }
  }

  private async drain(connection: Connection): Promise<void> {
    if (!this.offline.mayHaveMessages(connection.user)) {
      connection.finishDrain();
      return;
    }
    try {
      await this.offline.inboxSettled(connection.user);
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
        connection.writeHeldAll(batch.filter((message) => this.takeFromInbox(connection, message)));
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

  /** Whether the drain writes `message`, read from the inbox, to `connection` now; tracked if so. */
  private takeFromInbox(connection: Connection, message: ImMessage): boolean {
    if (this.recentlyDelivered.has(message.id)) return false;
    const delivery = this.track(message, undefined);
    if (delivery.done) return false;
    // Only a message some connection holds can be held by this one: every hold counts in
    // `holders`. Nearly every message of a drain is held nowhere, and skips both lookups.
    if (delivery.holders > 0) {
      if (connection.unacked.has(message.id)) return false;
      // Sent here over the bus too, and waiting behind this drain: written now, at its place.
      if (connection.takeFromBacklog(message)) return true;
    }
    delivery.fromInbox = true;
    delivery.holders++;
    return true;
  }
}
