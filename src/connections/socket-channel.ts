import { CloseCode } from './close-code.js';

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

/** Why the socket is not being read, if it is not. */
export type ReadPause = 'turn' | 'throttle';

/**
 * A WebSocket's I/O, and nothing about messages: writes batched per event-loop turn, the
 * slow-consumer check on the send buffer, reading paused and resumed, and closing with a grace.
 */
export class SocketChannel {
  /** Closed by the gateway for not reading what it is sent. */
  slowConsumer = false;
  private slowCheck: NodeJS.Timeout | undefined;
  private readPause: ReadPause | undefined;
  /** The TCP socket under a `ws` socket (absent under a test stub). */
  private readonly tcp: CorkableSocket | undefined;
  private corked = false;

  constructor(
    readonly socket: SocketLike,
    /** Unsent bytes beyond which the client is a slow consumer (SLOW_CONSUMER_BYTES). */
    private readonly slowConsumerBytes: number,
    /** Told once, when the channel closes its client as a slow consumer. */
    private readonly onSlowConsumer: () => void,
  ) {
    this.tcp = (socket as { _socket?: CorkableSocket })._socket;
  }

  get isOpen(): boolean {
    return this.socket.readyState === OPEN;
  }

  /**
   * Frames written in one turn of the event loop leave in one TCP write: the socket is corked at
   * the first and uncorked once the current batch of incoming frames has been handled.
   */
  send(frame: string, written?: (error?: Error | null) => void): void {
    this.corkForTurn();
    this.socket.send(frame, written);
    this.checkBackpressure();
  }

  /** Answers a client's ping; the pong counts toward the slow-consumer check like any frame. */
  pong(data: Buffer): void {
    if (!this.isOpen) return;
    this.corkForTurn();
    this.socket.pong(data);
    this.checkBackpressure();
  }

  ping(): void {
    this.socket.ping();
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
   * Closes with 1013 a client that reads (or acks) slower than it is sent to, and reports it at
   * once: what it holds goes elsewhere now, not when the close completes.
   */
  closeSlowConsumer(): void {
    if (!this.isOpen) return;
    this.slowConsumer = true;
    this.socket.close(CloseCode.TRY_AGAIN_LATER, 'slow consumer');
    setTimeout(() => this.socket.terminate(), SLOW_CONSUMER_CLOSE_GRACE_MS).unref();
    // Not from inside the write or route that found it slow: the router may be iterating this user.
    queueMicrotask(this.onSlowConsumer);
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
  resumeReading(reason: ReadPause): void {
    if (this.readPause !== reason) return;
    this.readPause = undefined;
    this.socket.resume();
  }

  /** The socket is gone: its timers stop. */
  dispose(): void {
    clearTimeout(this.slowCheck);
  }

  private pauseReading(reason: ReadPause): void {
    if (this.readPause === undefined) this.socket.pause();
    this.readPause = reason;
  }

  /**
   * A client that does not read lets our send buffer grow without bound. Over SLOW_CONSUMER_BYTES
   * for longer than a burst lasts (or far over it at once) it is closed with 1013, and what it
   * held is handed on by the normal close path.
   */
  private checkBackpressure(): void {
    const buffered = this.socket.bufferedAmount;
    const limit = this.slowConsumerBytes;
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

  private corkForTurn(): void {
    if (this.corked || this.tcp === undefined) return;
    this.corked = true;
    this.tcp.cork();
    process.nextTick(this.uncork);
  }

  private readonly uncork = (): void => {
    this.corked = false;
    this.tcp!.uncork();
  };
}
