import type { ImMessage } from '../messages/im-message.js';
import type { OutboundCodec } from './outbound-codec.js';
import type { DeliveryStatus, RetryableFailure, SendFailure, SendListener } from '../messages/send-listener.js';
import { ClientSession } from './client-session.js';
import { type FenceRefusal, SendFence } from './send-fence.js';
import { type ReadPause, type SocketLike, SocketChannel } from './socket-channel.js';

export type { SocketLike } from './socket-channel.js';

export type WireProtocol = 'text' | 'json';

/** What a connection reports to whoever routes its messages. */
export interface WriteListener {
  /**
   * A message this connection held has settled: the client acked it (JSON), or it was written
   * out to the kernel (plain text, whose only "ack" that is).
   */
  settled(connection: Connection, message: ImMessage): void;
  /** The connection is closing as a slow consumer: what it holds must go elsewhere now. */
  overloaded(connection: Connection): void;
}

/** Per-connection bounds, from the configuration (`connectionLimitsOf`). */
export interface ConnectionLimits {
  /** Most unsettled messages at once (MAX_INFLIGHT_PER_CONNECTION). */
  readonly window: number;
  /** Most bytes of unsettled messages at once; one message is always allowed, whatever its size. */
  readonly windowBytes: number;
  /** Unsent bytes, or bytes waiting in the backlog, beyond which the client is a slow consumer. */
  readonly slowConsumerBytes: number;
  /** Messages waiting in the backlog beyond which the client is a slow consumer. */
  readonly backlogMessages: number;
  readonly ratePerSecond: number;
  readonly rateBurst: number;
}

/** A JSON `message` frame's envelope: event name, server id, timestamp, keys and quotes. */
export const MESSAGE_ENVELOPE_BYTES = 128;

/** Bytes a message costs while a connection holds it: its body as sent, plus ids and framing. */
export function heldBytes(message: ImMessage): number {
  return Buffer.byteLength(message.body) + message.from.length + message.to.length + MESSAGE_ENVELOPE_BYTES;
}

let nextConnectionId = 1;

/**
 * One live WebSocket of one user, and the messages it is responsible for until they settle. Its
 * socket's I/O is a `SocketChannel`; the gateway's per-session state is a `ClientSession`.
 *
 * Order is kept by one rule: a message is written at once only when nothing is waiting ahead of
 * it; otherwise it waits in `backlog` — behind the offline-inbox drain that runs when the
 * connection opens, and (JSON protocol) behind a full window of unacknowledged messages.
 */
export class Connection implements SendListener {
  readonly id = nextConnectionId++;
  readonly openedAt = Date.now();
  /** Cleared on every heartbeat ping, set again by the pong. */
  isAlive = true;
  /**
   * Held messages written and not yet settled, in write order: awaiting the client's ack (JSON)
   * or the socket's write callback (plain text).
   */
  readonly unacked = new Map<string, ImMessage>();
  /** `heldBytes` of every message in `unacked`. */
  private unackedBytes = 0;
  private drainingInbox = true;
  private backlog: ImMessage[] = [];
  /** Ids of the messages waiting in the backlog. */
  private readonly backlogIds = new Set<string>();
  /** Ids still in the backlog array but written ahead of their turn (`takeFromBacklog`): skipped. */
  private readonly promoted = new Set<string>();
  private backlogHead = 0;
  /** `heldBytes` of the messages waiting in the backlog. */
  private backlogBytes = 0;
  private roomWaiter: (() => void) | undefined;
  /** Rate limits, last recipient and token expiry: the gateway's, carried here. */
  readonly session: ClientSession;
  /** Holds the sends after a refused one until it comes again (JSON). */
  private readonly fence = new SendFence();
  /** Sends numbered so far (`nextSendOrder`). */
  private sendOrder = 0;
  readonly window: number;

  /** The socket's I/O: batched writes, the slow-consumer check, reading paused and resumed. */
  readonly channel: SocketChannel;

  constructor(
    socket: SocketLike,
    readonly user: string,
    readonly protocol: WireProtocol,
    private readonly codec: OutboundCodec,
    private readonly limits: ConnectionLimits,
    private readonly listener: WriteListener,
  ) {
    this.window = limits.window;
    this.session = new ClientSession(limits.ratePerSecond, limits.rateBurst);
    this.channel = new SocketChannel(socket, limits.slowConsumerBytes, () => listener.overloaded(this));
  }

  /** Its inbox is still being read: live messages wait behind it. */
  get draining(): boolean {
    return this.drainingInbox;
  }

  get socket(): SocketLike {
    return this.channel.socket;
  }

  get isOpen(): boolean {
    return this.channel.isOpen;
  }

  /** Closed by the gateway for not reading what it was sent. */
  get slowConsumer(): boolean {
    return this.channel.slowConsumer;
  }

  /** JSON connections acknowledge each message; plain-text ones cannot. */
  get acks(): boolean {
    return this.protocol === 'json';
  }

  /** Room for one more unsettled message: under both window bounds, or nothing in flight at all. */
  get hasRoom(): boolean {
    return this.unacked.size === 0 || (this.unacked.size < this.window && this.unackedBytes < this.limits.windowBytes);
  }

  /** Bytes the window can still take before it is full. */
  get roomBytes(): number {
    return Math.max(0, this.limits.windowBytes - this.unackedBytes);
  }

  /** True when a message delivered now would be written at once. */
  get canWriteNow(): boolean {
    return this.isOpen && !this.drainingInbox && this.backlogHead === this.backlog.length && this.hasRoom;
  }

  /**
   * Takes responsibility for `message` until it settles: writes it now if nothing is ahead of it,
   * otherwise it waits its turn.
   */
  hold(message: ImMessage): void {
    if (this.canWriteNow) {
      this.writeHeld(message);
      return;
    }
    this.backlog.push(message);
    this.backlogIds.add(message.id);
    this.backlogBytes += heldBytes(message);
    const waiting = this.backlog.length - this.backlogHead;
    if (waiting > this.limits.backlogMessages || this.backlogBytes > this.limits.slowConsumerBytes) {
      this.channel.closeSlowConsumer();
    }
  }

  /** Fire-and-forget write of a message nobody tracks (the seed's live path, plain text only). */
  writeUntracked(message: ImMessage): void {
    this.writeBody(this.codec.message(message));
  }

  /** Writes an already-encoded plain-text frame nobody tracks. */
  writeBody(frame: string): void {
    this.channel.send(frame);
  }

  /** Whether this connection holds message `id`: written and unsettled, or waiting its turn. */
  holds(id: string): boolean {
    return this.unacked.has(id) || this.backlogIds.has(id);
  }

  /**
   * Takes `message`, waiting in the backlog, out of it so that the caller writes it now: the
   * drain met it in the inbox, and writing it at its place in the inbox's order keeps the order.
   * False when it is not waiting here.
   */
  takeFromBacklog(message: ImMessage): boolean {
    if (!this.backlogIds.delete(message.id)) return false;
    this.promoted.add(message.id);
    this.backlogBytes -= heldBytes(message);
    return true;
  }

  /** Writes a held message; it stays unsettled until acked (JSON) or written out (plain text). */
  writeHeld(message: ImMessage): void {
    this.markHeld(message);
    // JSON's hot path: no one-message page to allocate, since no write callback settles it.
    if (this.acks) this.channel.send(this.codec.message(message));
    else this.sendHeld([message]);
  }

  /** `writeHeld` for each of `messages`, in order: a page of a drain, or of the backlog. */
  writeHeldAll(messages: readonly ImMessage[]): void {
    for (const message of messages) this.markHeld(message);
    this.sendHeld(messages);
  }

  private markHeld(message: ImMessage): void {
    this.unacked.set(message.id, message);
    this.unackedBytes += heldBytes(message);
  }

  /**
   * Writes messages already marked held. Plain text settles them all from one write callback, on
   * the last frame: frames written in one turn leave in one TCP write (`SocketChannel.send`),
   * which succeeds or fails as a whole, and a write's callback runs only after those before it.
   */
  private sendHeld(messages: readonly ImMessage[]): void {
    const last = messages.length - 1;
    if (last < 0) return;
    for (let i = 0; i < last; i++) this.channel.send(this.codec.message(messages[i]!));
    if (this.acks) this.channel.send(this.codec.message(messages[last]!));
    else
      this.channel.send(this.codec.message(messages[last]!), (error?: Error | null) =>
        this.writtenOut(error, messages),
      );
  }

  /** Plain text: `messages` reached the kernel, so they settle; on an error they stay held, to be released. */
  private writtenOut(error: Error | null | undefined, messages: readonly ImMessage[]): void {
    if (error) return;
    let settled = false;
    for (const message of messages) {
      if (!this.unacked.delete(message.id)) continue;
      this.unackedBytes -= heldBytes(message);
      this.listener.settled(this, message);
      settled = true;
    }
    if (settled) this.afterSettle();
  }

  /** The connection is gone: its timers stop. */
  dispose(): void {
    this.channel.dispose();
    this.session.dispose();
  }

  /** Sends a protocol frame (an answer, not a message). */
  sendFrame(frame: string | undefined): void {
    if (frame === undefined || !this.isOpen) return;
    this.channel.send(frame);
  }

  /** Tells a JSON sender what became of its message `clientId`. */
  confirm(clientId: string, messageId: string, status: DeliveryStatus): void {
    this.sendFrame(this.codec.sent(clientId, messageId, status));
  }

  /** Tells a JSON sender its message `clientId` was not accepted after all. */
  fail(clientId: string, failure: SendFailure, reason: string, order?: number): void {
    if (failure === 'STORE_UNAVAILABLE') this.refuse(clientId, failure, reason, order);
    else this.sendFrame(this.codec.failed(clientId, failure, reason));
  }

  /** Numbers a send as it arrives: its place among this connection's sends (`holdsBack`). */
  nextSendOrder(): number {
    return ++this.sendOrder;
  }

  /**
   * Refuses send `clientId` for now; the sends after it are refused until it comes again. Without
   * an `order`, it counts as the last send numbered so far.
   */
  refuse(clientId: string, failure: RetryableFailure, reason: string, order = this.sendOrder): void {
    this.fence.raise(clientId, failure, Date.now(), order);
    this.sendFrame(this.codec.failed(clientId, failure, reason));
  }

  /** Why send `clientId` must wait for an earlier refused one (`SendFence`); undefined: it may go. */
  fenceRefusal(clientId: string, now: number): FenceRefusal | undefined {
    return this.fence.check(clientId, now);
  }

  /** SendListener: closed, or an earlier send of this connection was refused and has not come again. */
  holdsBack(order: number): boolean {
    return !this.isOpen || this.fence.holds(order);
  }

  /** Tells a JSON sender that its queued message `messageId` has now been delivered. */
  receipt(messageId: string): void {
    this.sendFrame(this.codec.receipt(messageId));
  }

  /** The client acked `id`: it settles, and is reported so. False if this connection did not hold it. */
  acknowledge(id: string): boolean {
    const message = this.unacked.get(id);
    if (message === undefined) return false;
    this.unacked.delete(id);
    this.unackedBytes -= heldBytes(message);
    this.afterSettle();
    this.listener.settled(this, message);
    return true;
  }

  /**
   * Resolves when the window is at most half full (or the connection is gone): a drain then reads
   * the inbox in large pages instead of one message per freed slot.
   */
  room(): Promise<void> {
    if (this.halfEmpty || !this.isOpen) return Promise.resolve();
    return new Promise((resolve) => (this.roomWaiter = resolve));
  }

  private get halfEmpty(): boolean {
    return this.unacked.size <= this.window >>> 1 && this.unackedBytes <= this.limits.windowBytes >>> 1;
  }

  /** Ends the inbox drain: what waited behind it goes out in order, as the window allows. */
  finishDrain(): void {
    this.drainingInbox = false;
    this.pump();
  }

  /**
   * Everything this connection held and did not settle: unacknowledged first (they are older),
   * then the backlog. The connection keeps nothing afterwards.
   */
  takeUnsettled(): ImMessage[] {
    const waiting = this.backlog.slice(this.backlogHead).filter((m) => !this.promoted.has(m.id));
    const out = [...this.unacked.values(), ...waiting];
    this.promoted.clear();
    this.unacked.clear();
    this.unackedBytes = 0;
    this.backlog = [];
    this.backlogIds.clear();
    this.backlogHead = 0;
    this.backlogBytes = 0;
    this.roomWaiter?.();
    this.roomWaiter = undefined;
    return out;
  }

  ping(): void {
    this.channel.ping();
  }

  /** See `SocketChannel.throttle`. */
  throttle(ms: number): void {
    this.channel.throttle(ms);
  }

  /** See `SocketChannel.pauseForTurn`. */
  pauseForTurn(): boolean {
    return this.channel.pauseForTurn();
  }

  resumeReading(reason: ReadPause): void {
    this.channel.resumeReading(reason);
  }

  pong(data: Buffer): void {
    this.channel.pong(data);
  }

  terminate(): void {
    this.channel.terminate();
  }

  /** See `SocketChannel.close`: a peer that does not answer our close frame is cut. */
  close(code: number, reason: string): void {
    this.channel.close(code, reason);
  }

  private afterSettle(): void {
    this.pump();
    if (this.roomWaiter === undefined || !this.halfEmpty) return;
    const waiter = this.roomWaiter;
    this.roomWaiter = undefined;
    waiter();
  }

  private pump(): void {
    if (this.backlogHead === this.backlog.length) return;
    const page: ImMessage[] = [];
    while (!this.drainingInbox && this.backlogHead < this.backlog.length && this.hasRoom && this.isOpen) {
      const message = this.backlog[this.backlogHead++]!;
      if (this.promoted.delete(message.id)) continue;
      this.backlogIds.delete(message.id);
      this.backlogBytes -= heldBytes(message);
      this.markHeld(message);
      page.push(message);
    }
    if (this.backlogHead === this.backlog.length && this.backlogHead > 0) {
      this.backlog = [];
      this.backlogHead = 0;
      this.backlogBytes = 0;
    }
    this.sendHeld(page);
  }
}
