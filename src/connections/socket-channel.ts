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

/** The TCP socket under a `ws` socket: what the channel writes its frames to. */
interface TcpSocket {
  readonly writable: boolean;
  write(data: Buffer, cb?: (error?: Error | null) => void): boolean;
}

/** First bytes of a text frame and a pong: FIN, opcode 1 or 10. Server frames are not masked (RFC 6455 5.1). */
const TEXT_FRAME = 0x81;
const PONG_FRAME = 0x8a;
/** Payload lengths in a frame header: up to 125 in the second byte, then 16 or 64 bits after it. */
const LENGTH_IN_HEADER = 125;
const LENGTH_16 = 126;
const LENGTH_64 = 127;
const MAX_LENGTH_16 = 0xffff;
const TWO_POW_32 = 2 ** 32;
/**
 * A turn's buffer starts as large as the last turn's bytes, but no larger than this, and doubles as
 * needed. Below 4 KiB it comes from Node's shared buffer pool (on Node 20 too, whose pool is the
 * smallest); and a turn that writes one frame to each of many connections (a message to a crowd)
 * allocates no more than this for each, whatever they wrote before.
 */
const MAX_TURN_START_BYTES = 4 * 1024 - 1;

/** Header bytes of a frame of `length` payload bytes. */
function headerBytes(length: number): number {
  if (length <= LENGTH_IN_HEADER) return 2;
  return length <= MAX_LENGTH_16 ? 4 : 10;
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
  /** The TCP socket under a `ws` socket (absent under a test stub, which gets each frame from `ws`'s own send). */
  private readonly tcp: TcpSocket | undefined;
  /**
   * This turn's frames, framed as they are sent: a frame's text is copied out of the heap at
   * once, so the strings of a turn do not live until its end (a young-generation collection in
   * the middle of a turn would copy every one of them).
   */
  private pending: Buffer | undefined;
  /** Bytes of `pending` used: the turn's frames on the wire, headers included. */
  private pendingBytes = 0;
  /** The last turn's bytes: the next turn's buffer starts that large, up to MAX_TURN_START_BYTES. */
  private lastTurnBytes = 0;
  /** Write callbacks of pending frames, called in order once their bytes are written. */
  private pendingCallbacks: Array<(error?: Error | null) => void> | undefined;

  constructor(
    readonly socket: SocketLike,
    /** Unsent bytes beyond which the client is a slow consumer (SLOW_CONSUMER_BYTES). */
    private readonly slowConsumerBytes: number,
    /** Told once, when the channel closes its client as a slow consumer. */
    private readonly onSlowConsumer: () => void,
  ) {
    this.tcp = (socket as { _socket?: TcpSocket })._socket;
  }

  get isOpen(): boolean {
    return this.socket.readyState === OPEN;
  }

  /**
   * Frames written in one turn of the event loop leave in one TCP write of one buffer, framed
   * here: `ws` would allocate a header and queue two chunks per frame, and a turn writes many.
   * Pongs join them (`pong`); pings and close frames go through `ws`, after what is pending.
   */
  send(frame: string, written?: (error?: Error | null) => void): void {
    if (this.tcp === undefined || !this.isOpen) {
      // `ws` answers a write to a socket that is not open through `written`, with its error.
      this.socket.send(frame, written);
      return;
    }
    const size = Buffer.byteLength(frame);
    const at = this.reserve(TEXT_FRAME, size);
    this.pending!.write(frame, at, size, 'utf8');
    if (written !== undefined) {
      if (this.pendingCallbacks === undefined) this.pendingCallbacks = [written];
      else this.pendingCallbacks.push(written);
    }
    this.checkBackpressure();
  }

  /**
   * Answers a client's ping, in this turn's write with the text frames; the pong counts toward
   * the slow-consumer check like any frame.
   */
  pong(data: Buffer): void {
    if (!this.isOpen) return;
    if (this.tcp === undefined) this.socket.pong(data);
    else {
      const at = this.reserve(PONG_FRAME, data.length);
      data.copy(this.pending!, at);
    }
    this.checkBackpressure();
  }

  /**
   * Adds a frame's header to this turn's write, which leaves once the turn's incoming frames are
   * handled, and answers where its `size` bytes of payload go.
   */
  private reserve(opcode: number, size: number): number {
    const end = this.pendingBytes + headerBytes(size) + size;
    let buffer = this.pending;
    if (buffer === undefined) {
      buffer = this.pending = Buffer.allocUnsafe(Math.max(end, Math.min(this.lastTurnBytes, MAX_TURN_START_BYTES)));
      process.nextTick(this.flush);
    } else if (end > buffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(end, 2 * buffer.length));
      buffer.copy(grown, 0, 0, this.pendingBytes);
      buffer = this.pending = grown;
    }
    let at = this.pendingBytes;
    this.pendingBytes = end;
    buffer[at++] = opcode;
    if (size <= LENGTH_IN_HEADER) {
      buffer[at++] = size;
    } else if (size <= MAX_LENGTH_16) {
      buffer[at++] = LENGTH_16;
      at = buffer.writeUInt16BE(size, at);
    } else {
      buffer[at++] = LENGTH_64;
      at = buffer.writeUInt32BE(Math.floor(size / TWO_POW_32), at);
      at = buffer.writeUInt32BE(size >>> 0, at);
    }
    return at;
  }

  ping(): void {
    this.flush();
    this.socket.ping();
  }

  terminate(): void {
    this.socket.terminate();
    this.flush();
  }

  /**
   * Starts the closing handshake; a peer that does not answer within CLOSE_HANDSHAKE_GRACE_MS
   * (a dead link) is cut, so nothing waits on it (`ws` alone would wait 30 s).
   */
  close(code: number, reason: string): void {
    this.flush();
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
    this.flush();
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
    this.flush();
  }

  private pauseReading(reason: ReadPause): void {
    if (this.readPause === undefined) this.socket.pause();
    this.readPause = reason;
  }

  /** Bytes written to this client and not sent yet: in the socket's buffer, or pending this turn. */
  private get unsentBytes(): number {
    return this.socket.bufferedAmount + this.pendingBytes;
  }

  /**
   * A client that does not read lets our send buffer grow without bound. Over SLOW_CONSUMER_BYTES
   * for longer than a burst lasts (or far over it at once) it is closed with 1013, and what it
   * held is handed on by the normal close path.
   */
  private checkBackpressure(): void {
    const buffered = this.unsentBytes;
    const limit = this.slowConsumerBytes;
    if (buffered <= limit || this.slowConsumer) return;
    // Checked during the grace too: growing far past the limit meanwhile ends it at once.
    if (buffered > limit * SLOW_CONSUMER_HARD_FACTOR) {
      this.closeSlowConsumer();
      return;
    }
    if (this.slowCheck !== undefined) return;
    this.slowCheck = setTimeout(() => {
      this.slowCheck = undefined;
      if (this.unsentBytes > limit) this.closeSlowConsumer();
    }, SLOW_CONSUMER_GRACE_MS);
    this.slowCheck.unref();
  }

  /**
   * Writes the pending frames as one buffer. Once the socket is closing (a close frame went out,
   * or `ws` answered the peer's) no data frame may follow: they are dropped and their callbacks
   * hear an error, so what they carried stays held and goes back to the inbox.
   */
  private readonly flush = (): void => {
    const buffer = this.pending;
    if (buffer === undefined) return;
    const bytes = this.pendingBytes;
    const callbacks = this.pendingCallbacks;
    this.pending = undefined;
    this.pendingBytes = 0;
    this.pendingCallbacks = undefined;
    this.lastTurnBytes = bytes;
    const tcp = this.tcp!;
    if (!this.isOpen || !tcp.writable) {
      const error = new Error('WebSocket is not open: frames written in its last turn were not sent');
      for (const callback of callbacks ?? []) callback(error);
      return;
    }
    const data = bytes === buffer.length ? buffer : buffer.subarray(0, bytes);
    if (callbacks === undefined) tcp.write(data);
    else
      tcp.write(data, (error) => {
        for (const callback of callbacks) callback(error);
      });
  };
}
