import type { ImMessage } from '../routing/im-message.js';

export type WireProtocol = 'text' | 'json';

/** The part of a `ws` socket a connection uses; structural so a spec can supply a stub. */
export interface SocketLike {
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: string, cb?: (error?: Error) => void): void;
  ping(): void;
  close(code?: number, reason?: string): void;
  terminate(): void;
}

/** Turns a routed message into the frame this connection's protocol expects. */
export type MessageEncoder = (message: ImMessage) => string;

/** `WebSocket.OPEN` without importing `ws` into the domain. */
const OPEN = 1;

let nextConnectionId = 1;

/**
 * One live WebSocket of one user. While its offline inbox is being drained, live messages wait in
 * `backlog` so the user sees the older inbox first.
 */
export class Connection {
  readonly id = nextConnectionId++;
  readonly openedAt = Date.now();
  /** Cleared on every heartbeat ping, set again by the pong. */
  isAlive = true;
  /** The plain-text protocol's "last recipient" rule. */
  lastRecipient: string | undefined;
  private draining = true;
  private backlog: ImMessage[] = [];

  constructor(
    readonly socket: SocketLike,
    readonly user: string,
    readonly protocol: WireProtocol,
    private readonly encode: MessageEncoder,
  ) {}

  get isOpen(): boolean {
    return this.socket.readyState === OPEN;
  }

  /** Sends now, or after the inbox drain if one is running. */
  deliver(message: ImMessage): void {
    if (this.draining) this.backlog.push(message);
    else this.write(message);
  }

  /** Writes a frame; `written` runs once it reached the kernel (or with an error if it never will). */
  write(message: ImMessage, written?: (error?: Error) => void): void {
    this.socket.send(this.encode(message), written);
  }

  /** Ends the drain: the messages that waited behind it go out in arrival order. */
  finishDrain(): void {
    if (!this.draining) return;
    this.draining = false;
    const waiting = this.backlog;
    this.backlog = [];
    if (!this.isOpen) {
      this.backlog = waiting;
      return;
    }
    for (const message of waiting) this.write(message);
  }

  /** Messages routed here that were never written; the connection keeps none afterwards. */
  takeUndelivered(): ImMessage[] {
    const waiting = this.backlog;
    this.backlog = [];
    return waiting;
  }

  ping(): void {
    this.socket.ping();
  }

  terminate(): void {
    this.socket.terminate();
  }

  close(code: number, reason: string): void {
    this.socket.close(code, reason);
  }
}
