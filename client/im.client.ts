import { AckBatcher } from './ack.batcher.js';
import { BackoffPolicy } from './backoff.policy.js';
import { generateClientId } from './client-id.generator.js';
import { DeliveryPipeline } from './delivery.pipeline.js';
import { startHeartbeat, type Heartbeat } from './heartbeat.timer.js';
import {
  BACKOFF_RESET_AFTER_MS,
  CLIENT_ID_MAX_LENGTH,
  CloseCode,
  RECEIPT_MEMORY_CAPACITY,
  SUBPROTOCOL,
} from './im-client.constants.js';
import { ImClientError } from './im-client.error.js';
import type {
  ImClientEvent,
  ImClientEventMap,
  ImClientListener,
  ImClientState,
  ImMessage,
  SendStatus,
} from './im-client.events.js';
import { resolveOptions, type ImClientOptions, type ResolvedOptions } from './im-client.options.js';
import { LocalErrorCode, RETRYABLE_SEND_ERROR_CODES } from './im-error-code.enum.js';
import { LruCache } from './lru.cache.js';
import { Outbox } from './outbox.queue.js';
import { SocketConnection } from './socket.connection.js';
import { TypedEmitter } from './typed.emitter.js';
import {
  decodeServerFrame,
  encodeRefresh,
  encodeSend,
  PING_FRAME,
  type ErrorData,
  type ReceiptData,
  type SentData,
} from './wire.codec.js';

const utf8 = new TextEncoder();

export interface SendOptions {
  /** Client message id, 1 to 64 characters; resending with the same id is idempotent. Default: a random UUID. */
  id?: string;
}

/** `idle` until the first `connect()`; `stopped` after `close()` or a close the client does not recover from. */
type Phase = 'idle' | 'running' | 'stopped';

type Timer = ReturnType<typeof setTimeout>;

/**
 * Client of the im-gateway JSON protocol: keeps one connection up (reconnecting with backoff,
 * detecting dead links), delivers every send at least once through an outbox, and hands every
 * incoming message to the app once, acking it only after the app handled it.
 */
export class ImClient {
  private readonly options: ResolvedOptions;
  private readonly emitter = new TypedEmitter<ImClientEventMap>();
  private readonly reconnectBackoff: BackoffPolicy;
  /** Separate from reconnects: a server asking for a send later says nothing about the link. */
  private readonly retryBackoff: BackoffPolicy;
  private readonly outbox: Outbox;
  private readonly pipeline: DeliveryPipeline;
  private readonly acks: AckBatcher;
  /** Server id -> client id of sends that were queued, so a later receipt can name its send. */
  private readonly queuedSends = new LruCache<string, string>(RECEIPT_MEMORY_CAPACITY);

  private phase: Phase = 'idle';
  private currentState: ImClientState = 'closed';
  private connection: SocketConnection | undefined;
  /** Set while the current socket is open and accepted; its age decides whether backoff restarts. */
  private openedAt: number | undefined;
  /** The static token, the latest from `getToken`, or the latest given to `refreshToken`. */
  private token: string | undefined;
  /** Numbers connection attempts, so a `getToken` answer for an abandoned attempt is dropped. */
  private attempt = 0;
  private heartbeat: Heartbeat | undefined;
  private connectTimer: Timer | undefined;
  private reconnectTimer: Timer | undefined;
  /** Set while sends are held back after a retryable error; the outbox is sent again when it fires. */
  private holdTimer: Timer | undefined;
  /** Sends refused with a retryable error on this connection since the hold began. */
  private readonly refusedSends = new Set<string>();
  private openWaiters: { resolve: () => void; reject: (error: ImClientError) => void }[] = [];

  constructor(options: ImClientOptions) {
    this.options = resolveOptions(options);
    if (this.options.credentials.kind === 'token') this.token = this.options.credentials.token;
    this.reconnectBackoff = new BackoffPolicy(this.options.backoff);
    this.retryBackoff = new BackoffPolicy(this.options.backoff);
    this.outbox = new Outbox(this.options.sendTimeoutMs);
    this.acks = new AckBatcher((frame) => this.connection?.send(frame));
    this.pipeline = new DeliveryPipeline(this.options.dedupCapacity, {
      handlers: () => this.emitter.listenersOf('message'),
      ack: (id) => this.acks.add(id),
      fail: (message, cause) => this.handlerFailed(message, cause),
    });
  }

  get state(): ImClientState {
    return this.currentState;
  }

  /**
   * Starts connecting, and keeps reconnecting until `close()`. Resolves when a connection is open;
   * rejects with CLIENT_CLOSED if the client stops first. While a reconnect is waiting out its
   * backoff, calling it again (say, when the device is back online) connects at once.
   */
  connect(): Promise<void> {
    if (this.currentState === 'open') return Promise.resolve();
    const opened = new Promise<void>((resolve, reject) => this.openWaiters.push({ resolve, reject }));
    // Calling connect() without awaiting it is normal use; its rejection must not surface as an
    // unhandled rejection (fatal in Node) when the app closes the client itself.
    opened.catch(() => {});
    if (this.phase !== 'running') {
      this.phase = 'running';
      this.reconnectBackoff.reset();
      this.setState('connecting');
      this.openSocket();
    } else if (this.reconnectTimer !== undefined) {
      clearTimeout(this.reconnectTimer);
      this.reconnectTimer = undefined;
      this.openSocket();
    }
    return opened;
  }

  /**
   * Closes the connection and stops reconnecting. Idempotent. Every pending send and `connect()`
   * rejects with CLIENT_CLOSED; messages not handed to the app yet stay unacked for next time.
   * `connect()` starts the client again.
   */
  close(): void {
    const connection = this.connection;
    if (connection !== undefined) {
      this.releaseConnection();
      connection.dispose(CloseCode.Normal, 'client closed');
      this.emitter.emit('close', { code: CloseCode.Normal, reason: 'client closed', willReconnect: false });
    }
    this.stop(new ImClientError(LocalErrorCode.ClientClosed));
  }

  /**
   * Sends `body` to user `to`. Resolves with the first confirmation of the server: `queued` (stored
   * in the recipient's offline inbox) or `delivered` (a recipient device acked it). Until then the
   * send waits in the outbox and is sent again after every reconnect. A send made while the client
   * is stopped rejects with CLIENT_CLOSED; one made before the first `connect()` waits for it.
   */
  send(to: string, body: string, options: SendOptions = {}): Promise<SendStatus> {
    const invalid = checkSend(to, body, options.id);
    if (invalid !== undefined) {
      return Promise.reject(new ImClientError(LocalErrorCode.InvalidArgument, { message: invalid }));
    }
    if (this.phase === 'stopped') {
      return Promise.reject(new ImClientError(LocalErrorCode.ClientClosed, { id: options.id }));
    }
    const id = options.id ?? generateClientId();
    const existing = this.outbox.get(id);
    if (existing !== undefined) return existing.promise;
    const frame = encodeSend(id, to, body);
    const bytes = utf8.encode(frame).length;
    if (bytes > this.options.maxFrameBytes) {
      const message = `send frame is ${bytes} bytes, more than maxFrameBytes (${this.options.maxFrameBytes})`;
      return Promise.reject(new ImClientError(LocalErrorCode.FrameTooLarge, { id, message }));
    }
    const pending = this.outbox.add(id, frame);
    if (this.holdTimer === undefined) this.connection?.send(pending.frame);
    return pending.promise;
  }

  /**
   * Hands the server a fresh token for the open connection, and uses it for the next connection
   * unless `getToken` is set (that one is asked again).
   */
  refreshToken(token: string): void {
    if (this.options.credentials.kind === 'user') {
      throw new TypeError('ImClient: refreshToken needs the token or getToken option');
    }
    if (typeof token !== 'string' || token.length === 0) {
      throw new TypeError('ImClient: refreshToken needs a non-empty token');
    }
    this.token = token;
    if (this.openedAt !== undefined) this.connection?.send(encodeRefresh(token));
  }

  /** Adds a listener and returns the function that removes it. */
  on<E extends ImClientEvent>(event: E, listener: ImClientListener<E>): () => void {
    this.emitter.on(event, listener);
    if (event === 'message') this.pipeline.resume();
    return () => this.off(event, listener);
  }

  off<E extends ImClientEvent>(event: E, listener: ImClientListener<E>): void {
    this.emitter.off(event, listener);
  }

  private openSocket(): void {
    const attempt = ++this.attempt;
    const { credentials } = this.options;
    if (credentials.kind !== 'getToken') {
      this.createSocket();
      return;
    }
    new Promise<string>((resolve) => resolve(credentials.getToken())).then(
      (token) => {
        if (attempt !== this.attempt) return;
        if (typeof token !== 'string' || token.length === 0) {
          this.connectFailed(new ImClientError(LocalErrorCode.TokenFailed, { message: 'getToken returned no token' }));
          return;
        }
        this.token = token;
        this.createSocket();
      },
      (cause: unknown) => {
        if (attempt === this.attempt) this.connectFailed(new ImClientError(LocalErrorCode.TokenFailed, { cause }));
      },
    );
  }

  private createSocket(): void {
    let connection: SocketConnection;
    try {
      connection = new SocketConnection(this.options.WebSocket, this.connectionUrl(), {
        open: (protocol) => this.handleOpen(protocol),
        frame: (data) => this.handleFrame(data),
        close: (code, reason) => this.handleClose(code, reason),
        error: (message) => this.emitter.emit('error', new ImClientError(LocalErrorCode.SocketError, { message })),
      });
    } catch (cause) {
      this.connectFailed(new ImClientError(LocalErrorCode.SocketError, { cause, message: String(cause) }));
      return;
    }
    this.connection = connection;
    this.connectTimer = setTimeout(() => this.abandonConnection('connect timeout'), this.options.connectTimeoutMs);
  }

  private connectionUrl(): string {
    const { url, credentials } = this.options;
    const separator = url.includes('?') ? '&' : '?';
    const query =
      credentials.kind === 'user'
        ? `user=${encodeURIComponent(credentials.user)}`
        : `token=${encodeURIComponent(this.token as string)}`;
    return `${url}${separator}${query}`;
  }

  private handleOpen(protocol: string): void {
    clearTimeout(this.connectTimer);
    this.connectTimer = undefined;
    // Some WebSocket implementations accept a handshake in which the server selected no
    // subprotocol; such a server does not speak JSON frames.
    if (protocol !== SUBPROTOCOL) {
      this.emitter.emit('error', new ImClientError(LocalErrorCode.ProtocolMismatch));
      this.abandonConnection('subprotocol mismatch', CloseCode.Normal);
      return;
    }
    this.openedAt = Date.now();
    this.heartbeat = startHeartbeat({
      intervalMs: this.options.pingIntervalMs,
      timeoutMs: this.options.pingTimeoutMs,
      ping: () => this.connection?.send(PING_FRAME),
      onDead: () => this.abandonConnection('ping timeout'),
    });
    this.retryBackoff.reset();
    // Before anyone hears of the open: a send made from an `open` listener must follow older ones.
    this.flushOutbox();
    this.setState('open');
    if (this.currentState !== 'open') return;
    this.emitter.emit('open', undefined);
    const waiters = this.openWaiters;
    this.openWaiters = [];
    for (const waiter of waiters) waiter.resolve();
  }

  private handleFrame(data: unknown): void {
    this.heartbeat?.alive();
    const frame = typeof data === 'string' ? decodeServerFrame(data) : undefined;
    if (frame === undefined) {
      this.emitter.emit('error', new ImClientError(LocalErrorCode.BadServerFrame));
      return;
    }
    switch (frame.event) {
      case 'message':
        this.pipeline.receive(frame.data);
        return;
      case 'sent':
        this.handleSent(frame.data);
        return;
      case 'receipt':
        this.handleReceipt(frame.data);
        return;
      case 'error':
        this.handleServerError(frame.data);
        return;
      case 'pong':
      case 'ignored':
        return;
    }
  }

  private handleSent({ id, messageId, status }: SentData): void {
    // A send may be confirmed twice when it was resent; the first confirmation settled it.
    if (!this.outbox.confirm(id, status)) return;
    this.retryBackoff.reset();
    if (status === 'queued') this.queuedSends.set(messageId, id);
  }

  private handleReceipt({ messageId, status }: ReceiptData): void {
    const id = this.queuedSends.get(messageId);
    if (id === undefined) {
      this.emitter.emit('receipt', { messageId, status });
      return;
    }
    this.queuedSends.delete(messageId);
    this.emitter.emit('receipt', { messageId, status, id });
  }

  /** An error about a pending send settles that send; any other error goes to the `error` event. */
  private handleServerError({ code, message, id }: ErrorData): void {
    if (id !== undefined && this.outbox.has(id)) {
      if (RETRYABLE_SEND_ERROR_CODES.has(code)) {
        this.refusedSends.add(id);
        this.holdSends();
      } else this.outbox.reject(id, new ImClientError(code, { message: message ?? code, id }));
      return;
    }
    this.emitter.emit('error', new ImClientError(code, { message: message ?? code, id }));
  }

  /**
   * Holds every send back for a growing delay, then sends the outbox again in order from the first
   * refused send: resending only the refused one would put it behind sends made after it. The
   * server refuses the sends after a refused one until it comes again, so it must come first.
   */
  private holdSends(): void {
    if (this.holdTimer !== undefined) return;
    this.holdTimer = setTimeout(() => {
      this.holdTimer = undefined;
      this.flushOutbox(this.refusedSends);
      this.refusedSends.clear();
    }, this.retryBackoff.nextDelayMs());
  }

  /**
   * Sends the outbox, in order. After a refusal (`refused`), the sends ahead of the first refused
   * one are still being handled on this connection, so they are not sent again; on a new
   * connection, or when no refused send is left in the outbox, every one is.
   */
  private flushOutbox(refused?: ReadonlySet<string>): void {
    const connection = this.connection;
    if (connection === undefined) return;
    const pending = [...this.outbox.values()];
    const first =
      refused === undefined
        ? 0
        : Math.max(
            0,
            pending.findIndex(({ id }) => refused.has(id)),
          );
    for (let i = first; i < pending.length; i++) {
      if (!connection.send(pending[i]!.frame)) return;
    }
  }

  private handlerFailed(message: ImMessage, cause: unknown): void {
    this.emitter.emit('error', new ImClientError(LocalErrorCode.HandlerFailed, { messageId: message.id, cause }));
  }

  /** Gives up on the current socket without waiting for its close event, as for a dead link. */
  private abandonConnection(reason: string, code: number = CloseCode.Timeout): void {
    this.connection?.dispose(code, reason);
    this.handleClose(code, reason);
  }

  private handleClose(code: number, reason: string): void {
    const openFor = this.openedAt === undefined ? 0 : Date.now() - this.openedAt;
    this.releaseConnection();
    if (openFor >= BACKOFF_RESET_AFTER_MS) this.reconnectBackoff.reset();
    const willReconnect = this.mayReconnectAfter(code);
    this.emitter.emit('close', { code, reason, willReconnect });
    // A `close` listener may have called close() or connect() itself.
    if (this.phase !== 'running' || this.connection !== undefined || this.reconnectTimer !== undefined) return;
    if (willReconnect) {
      this.scheduleReconnect();
      return;
    }
    this.stop(
      new ImClientError(LocalErrorCode.ClientClosed, {
        message: `The server closed the connection for good (${code}${reason ? ` ${reason}` : ''})`,
        closeCode: code,
      }),
    );
  }

  private mayReconnectAfter(code: number): boolean {
    switch (code) {
      case CloseCode.Replaced:
        return false;
      case CloseCode.Kicked:
      case CloseCode.TokenExpired:
        return this.options.credentials.kind === 'getToken';
      default:
        return true;
    }
  }

  private connectFailed(error: ImClientError): void {
    this.emitter.emit('error', error);
    // An `error` listener may have called close().
    if (this.phase === 'running') this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    this.setState('reconnecting');
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.openSocket();
    }, this.reconnectBackoff.nextDelayMs());
  }

  /** Forgets the current socket and every timer that lives only as long as it does. */
  private releaseConnection(): void {
    this.connection = undefined;
    this.openedAt = undefined;
    this.heartbeat?.stop();
    this.heartbeat = undefined;
    clearTimeout(this.connectTimer);
    this.connectTimer = undefined;
    clearTimeout(this.holdTimer);
    this.holdTimer = undefined;
    this.refusedSends.clear();
  }

  private stop(error: ImClientError): void {
    this.phase = 'stopped';
    this.attempt++;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.pipeline.clear();
    this.outbox.rejectAll(error);
    const waiters = this.openWaiters;
    this.openWaiters = [];
    for (const waiter of waiters) waiter.reject(error);
    this.setState('closed');
  }

  private setState(state: ImClientState): void {
    if (state === this.currentState) return;
    this.currentState = state;
    this.emitter.emit('state', state);
  }
}

/** Returns why the arguments are invalid, or undefined when they are fine. */
function checkSend(to: unknown, body: unknown, id: unknown): string | undefined {
  if (typeof to !== 'string' || to.length === 0) return 'send: `to` must be a non-empty string';
  if (typeof body !== 'string') return 'send: `body` must be a string';
  if (id !== undefined && (typeof id !== 'string' || id.length === 0 || id.length > CLIENT_ID_MAX_LENGTH)) {
    return `send: \`id\` must be a string of 1 to ${CLIENT_ID_MAX_LENGTH} characters`;
  }
  return undefined;
}
