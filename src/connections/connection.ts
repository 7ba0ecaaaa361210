import type { ImMessage } from '../messages/im-message.js';
import type { OutboundCodec } from './outbound-codec.js';
import type { DeliveryStatus, SendFailure, SendListener } from '../messages/send-listener.js';
import { CloseCode } from './close-code.js';
import { ClientSession } from './client-session.js';

export type WireProtocol = 'text' | 'json';

/** The part of a `ws` socket a connection uses; structural so a spec can supply a stub. */
export interface SocketLike {
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: string, cb?: (error?: Error | null) => void): void;
  ping(): void;
  pong(data?: Buffer): void;
  pause(): void;
  resume(): void;
  close(code?: number, reason?: string): void;
  terminate(): void;
}

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

/** How long a peer gets to answer our close frame. */
const CLOSE_HANDSHAKE_GRACE_MS = 3_000;

/** A burst may overfill the send buffer for a moment; a reader that stays behind this long is slow. */
const SLOW_CONSUMER_GRACE_MS = 1_000;
/** Beyond this multiple of SLOW_CONSUMER_BYTES no grace is given: memory matters more. */
const SLOW_CONSUMER_HARD_FACTOR = 4;
/** A slow consumer gets this long to read what is in flight and our 1013 close frame. */
const SLOW_CONSUMER_CLOSE_GRACE_MS = 5_000;

interface CorkableSocket {
  cork(): void;
  uncork(): void;
}

/** `WebSocket.OPEN` and `CLOSED` without importing `ws` into the domain. */
const OPEN = 1;
const CLOSED = 3;

let nextConnectionId = 1;

/**
 * One live WebSocket of one user, and the messages it is responsible for until they settle.
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
  private draining = true;
  private backlog: ImMessage[] = [];
  private backlogHead = 0;
  /** `heldBytes` of the messages waiting in the backlog. */
  private backlogBytes = 0;
  private roomWaiter: (() => void) | undefined;
  /** Rate limits, last recipient and token expiry: the gateway's, carried here. */
  readonly session: ClientSession;
  readonly window: number;

  constructor(
    readonly socket: SocketLike,
    readonly user: string,
    readonly protocol: WireProtocol,
    private readonly codec: OutboundCodec,
    private readonly limits: ConnectionLimits,
    private readonly listener: WriteListener,
  ) {
    this.window = limits.window;
    this.session = new ClientSession(limits.ratePerSecond, limits.rateBurst);
    this.tcp = (socket as { _socket?: CorkableSocket })._socket;
  }

  /** The TCP socket under a `ws` socket (absent under a test stub). */
  private readonly tcp: CorkableSocket | undefined;

  get isOpen(): boolean {
    return this.socket.readyState === OPEN;
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
    return this.isOpen && !this.draining && this.backlogHead === this.backlog.length && this.hasRoom;
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
    this.backlogBytes += heldBytes(message);
    const waiting = this.backlog.length - this.backlogHead;
    if (waiting > this.limits.backlogMessages || this.backlogBytes > this.limits.slowConsumerBytes) {
      this.closeSlowConsumer();
    }
  }

  /** Fire-and-forget write of a message nobody tracks (the seed's live path, plain text only). */
  writeUntracked(message: ImMessage): void {
    this.writeBody(this.codec.message(message));
  }

  /** Writes an already-encoded plain-text frame nobody tracks. */
  writeBody(frame: string): void {
    this.send(frame);
    this.checkBackpressure();
  }

  /** Writes a held message; it stays unsettled until acked (JSON) or written out (plain text). */
  writeHeld(message: ImMessage): void {
    this.unacked.set(message.id, message);
    this.unackedBytes += heldBytes(message);
    if (this.acks) this.send(this.codec.message(message));
    else {
      this.send(this.codec.message(message), (error?: Error | null) => {
        if (!error && this.unacked.delete(message.id)) {
          this.unackedBytes -= heldBytes(message);
          this.afterSettle();
          this.listener.settled(this, message);
        }
      });
    }
    this.checkBackpressure();
  }

  /**
   * A client that does not read lets our send buffer grow without bound. Over SLOW_CONSUMER_BYTES
   * for longer than a burst lasts (or far over it at once) it is closed with 1013, and what it
   * held is handed on by the normal close path.
   */
  private checkBackpressure(): void {
    const buffered = this.socket.bufferedAmount;
    const limit = this.limits.slowConsumerBytes;
    if (buffered <= limit || this.slowConsumer || this.slowCheck !== undefined) return;
    if (buffered > limit * SLOW_CONSUMER_HARD_FACTOR) {
      this.closeSlowConsumer();
      return;
    }
    this.slowCheck = setTimeout(() => {
      this.slowCheck = undefined;
      if (this.socket.bufferedAmount > limit) this.closeSlowConsumer();
    }, SLOW_CONSUMER_GRACE_MS);
    this.slowCheck.unref();
  }

  /**
   * Closes with 1013 a client that reads (or acks) slower than it is sent to. What it holds goes
   * back at once, to its user's other connections or the inbox, not when the close completes.
   */
  private closeSlowConsumer(): void {
    if (!this.isOpen) return;
    this.slowConsumer = true;
    this.socket.close(CloseCode.TRY_AGAIN_LATER, 'slow consumer');
    setTimeout(() => this.socket.terminate(), SLOW_CONSUMER_CLOSE_GRACE_MS).unref();
    // Not from inside the write or route that found it slow: the router may be iterating this user.
    queueMicrotask(() => this.listener.overloaded(this));
  }

  /** The connection is gone: its timers stop. */
  dispose(): void {
    clearTimeout(this.slowCheck);
    this.session.dispose();
  }

  /** Closed by the gateway for not reading its messages. */
  slowConsumer = false;
  private slowCheck: NodeJS.Timeout | undefined;

  /** Sends a protocol frame (an answer, not a message). */
  sendFrame(frame: string | undefined): void {
    if (frame === undefined || !this.isOpen) return;
    this.send(frame);
    this.checkBackpressure();
  }

  /** Tells a JSON sender what became of its message `clientId`. */
  confirm(clientId: string, messageId: string, status: DeliveryStatus): void {
    this.sendFrame(this.codec.sent(clientId, messageId, status));
  }

  /** Tells a JSON sender its message `clientId` was not accepted after all. */
  fail(clientId: string, failure: SendFailure, reason: string): void {
    this.sendFrame(this.codec.failed(clientId, failure, reason));
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
    this.draining = false;
    this.pump();
  }

  /**
   * Everything this connection held and did not settle: unacknowledged first (they are older),
   * then the backlog. The connection keeps nothing afterwards.
   */
  takeUnsettled(): ImMessage[] {
    const out = [...this.unacked.values(), ...this.backlog.slice(this.backlogHead)];
    this.unacked.clear();
    this.unackedBytes = 0;
    this.backlog = [];
    this.backlogHead = 0;
    this.backlogBytes = 0;
    this.roomWaiter?.();
    this.roomWaiter = undefined;
    return out;
  }

  ping(): void {
    this.socket.ping();
  }

  /**
   * Stops reading the client's frames for `ms`: a client over its rate limit meets TCP
   * backpressure, so a flood costs the event loop one read per pause, not one per frame sent.
   */
  throttle(ms: number): void {
    // Closing too: a flooder that ignores our close frame is read no faster until it is cut.
    if (this.readPause === 'throttle' || this.socket.readyState === CLOSED) return;
    this.pauseReading('throttle');
    setTimeout(() => this.resumeReading('throttle'), ms).unref();
  }

  /**
   * Stops reading until `resumeReading('turn')`: this event-loop turn has read its share. False
   * when the socket was not being read already (or is gone), so there is nothing to resume.
   */
  pauseForTurn(): boolean {
    if (this.readPause !== undefined || this.socket.readyState === CLOSED) return false;
    this.pauseReading('turn');
    return true;
  }

  /** Reads again, unless a longer pause than `reason` is in force. */
  resumeReading(reason: 'turn' | 'throttle'): void {
    if (this.readPause !== reason) return;
    this.readPause = undefined;
    this.socket.resume();
  }

  private pauseReading(reason: 'turn' | 'throttle'): void {
    if (this.readPause === undefined) this.socket.pause();
    this.readPause = reason;
  }

  /** Why the socket is not being read, if it is not. */
  private readPause: 'turn' | 'throttle' | undefined;

  /** Answers a client's ping; the pong counts toward the slow-consumer check like any frame. */
  pong(data: Buffer): void {
    if (!this.isOpen) return;
    this.corkForTurn();
    this.socket.pong(data);
    this.checkBackpressure();
  }

  terminate(): void {
    this.socket.terminate();
  }

  /**
   * Starts the closing handshake; a peer that does not answer within CLOSE_HANDSHAKE_GRACE_MS
   * (a dead link) is cut, so nothing waits on it (`ws` alone would wait 30 s).
   */
  close(code: number, reason: string): void {
    this.socket.close(code, reason);
    setTimeout(() => this.socket.terminate(), CLOSE_HANDSHAKE_GRACE_MS).unref();
  }

  /**
   * Frames written in one turn of the event loop leave in one TCP write: the socket is corked at
   * the first and uncorked once the current batch of incoming frames has been handled.
   */
  private send(frame: string, written?: (error?: Error | null) => void): void {
    this.corkForTurn();
    this.socket.send(frame, written);
  }

  private corkForTurn(): void {
    if (this.corked || this.tcp === undefined) return;
    this.corked = true;
    this.tcp.cork();
    process.nextTick(this.uncork);
  }

  private corked = false;
  private readonly uncork = (): void => {
    this.corked = false;
    this.tcp!.uncork();
  };

  private afterSettle(): void {
    this.pump();
    if (this.roomWaiter === undefined || !this.halfEmpty) return;
    const waiter = this.roomWaiter;
    this.roomWaiter = undefined;
    waiter();
  }

  private pump(): void {
    while (!this.draining && this.backlogHead < this.backlog.length && this.hasRoom && this.isOpen) {
      const message = this.backlog[this.backlogHead++]!;
      this.backlogBytes -= heldBytes(message);
      this.writeHeld(message);
    }
    if (this.backlogHead === this.backlog.length && this.backlogHead > 0) {
      this.backlog = [];
      this.backlogHead = 0;
      this.backlogBytes = 0;
    }
  }
}
