import type {
  WebSocketCloseEventLike,
  WebSocketConstructor,
  WebSocketLike,
  WebSocketMessageEventLike,
} from '../web-socket.types.js';

/** A frame as the im-gateway JSON protocol writes it. */
export interface FakeFrame {
  readonly event: string;
  readonly data: unknown;
}

/** Close code a browser reports when the connection dropped without a closing handshake. */
const ABNORMAL_CLOSURE = 1006;
/** Close code a browser reports when `close()` was called without one. */
const NO_STATUS_RECEIVED = 1005;

/**
 * An in-memory WebSocket that behaves like a browser's at the API surface (readyState rules,
 * allowed close codes, asynchronous close event), driven by the test acting as the server.
 */
export class FakeWebSocket implements WebSocketLike {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;

  readonly url: string;
  readonly protocols: readonly string[];
  readyState: number = FakeWebSocket.CONNECTING;
  protocol = '';
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: WebSocketMessageEventLike) => void) | null = null;
  onclose: ((event: WebSocketCloseEventLike) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  /** Every text frame the client sent, in order. */
  readonly sent: string[] = [];
  /** Arguments of the client's `close()` call, once it made one. */
  closedByClient: { readonly code?: number; readonly reason?: string } | undefined;

  constructor(url: string, protocols: string | string[] = []) {
    this.url = url;
    this.protocols = typeof protocols === 'string' ? [protocols] : [...protocols];
  }

  send(data: string): void {
    if (this.readyState === FakeWebSocket.CONNECTING) throw new Error('InvalidStateError: still CONNECTING');
    // A browser silently discards frames sent on a closing or closed socket.
    if (this.readyState !== FakeWebSocket.OPEN) return;
    this.sent.push(data);
  }

  close(code?: number, reason?: string): void {
    if (code !== undefined && code !== 1000 && (code < 3000 || code > 4999)) {
      throw new Error(`InvalidAccessError: close code ${code} is not allowed`);
    }
    if (this.readyState === FakeWebSocket.CLOSING || this.readyState === FakeWebSocket.CLOSED) return;
    this.closedByClient = { code, reason };
    this.readyState = FakeWebSocket.CLOSING;
    queueMicrotask(() => this.finishClose(code ?? NO_STATUS_RECEIVED, reason ?? ''));
  }

  /** The server accepts the handshake, selecting `protocol` (default: the first one offered). */
  serverOpen(protocol: string = this.protocols[0] ?? ''): void {
    this.expectState(FakeWebSocket.CONNECTING, 'serverOpen');
    this.protocol = protocol;
    this.readyState = FakeWebSocket.OPEN;
    this.onopen?.({ type: 'open' });
  }

  /** The server sends one JSON frame. */
  serverSend(event: string, data: unknown): void {
    this.serverSendRaw(JSON.stringify({ event, data }));
  }

  /** The server sends a frame exactly as given, such as malformed text. */
  serverSendRaw(data: unknown): void {
    this.expectState(FakeWebSocket.OPEN, 'serverSend');
    this.onmessage?.({ data });
  }

  /** The connection ends from the server's side (or the network's, with the default 1006). */
  serverClose(code: number = ABNORMAL_CLOSURE, reason = ''): void {
    if (this.readyState === FakeWebSocket.CLOSED) return;
    this.finishClose(code, reason);
  }

  /** The socket reports an error, as `ws` does before a failed connection closes. */
  serverError(message: string): void {
    this.onerror?.({ type: 'error', message });
  }

  /** Frames the client sent, parsed. */
  frames(): FakeFrame[] {
    return this.sent.map((text) => JSON.parse(text) as FakeFrame);
  }

  /** The `data` of each frame of one event the client sent, in order. */
  dataOf<T = Record<string, unknown>>(event: string): T[] {
    return this.frames()
      .filter((frame) => frame.event === event)
      .map((frame) => frame.data as T);
  }

  /** True when the client left no handler on the socket that could still fire (an error sink is fine). */
  get isDetached(): boolean {
    return this.onopen === null && this.onmessage === null && this.onclose === null;
  }

  private finishClose(code: number, reason: string): void {
    if (this.readyState === FakeWebSocket.CLOSED) return;
    this.readyState = FakeWebSocket.CLOSED;
    this.onclose?.({ code, reason });
  }

  private expectState(state: number, action: string): void {
    if (this.readyState !== state) {
      throw new Error(`FakeWebSocket: ${action} needs readyState ${state}, is ${this.readyState}`);
    }
  }
}

export interface FakeWebSocketFactory {
  /** Pass as the client's `WebSocket` option. */
  readonly WebSocket: WebSocketConstructor;
  /** Every socket the client created, oldest first. */
  readonly sockets: readonly FakeWebSocket[];
  /** The socket created last; throws when there is none. */
  last(): FakeWebSocket;
}

/** A WebSocket class whose instances are recorded, so a test can play the server of each connection. */
export function fakeWebSocketFactory(): FakeWebSocketFactory {
  const sockets: FakeWebSocket[] = [];
  class RecordedWebSocket extends FakeWebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols);
      sockets.push(this);
    }
  }
  return {
    WebSocket: RecordedWebSocket,
    sockets,
    last() {
      const socket = sockets.at(-1);
      if (socket === undefined) throw new Error('FakeWebSocket: no socket was created');
      return socket;
    },
  };
}
