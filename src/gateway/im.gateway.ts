import { type BeforeApplicationShutdown, Logger } from '@nestjs/common';
import { type OnGatewayConnection, WebSocketGateway } from '@nestjs/websockets';
import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import { Authenticator } from '../auth/authenticator.js';
import { AppConfig } from '../config/app-config.js';
import { CloseCode } from '../connections/close-code.js';
import { ConnectionPool } from '../connections/connection-pool.service.js';
import { Connection, type ConnectionLimits } from '../connections/connection.js';
import { ReadBudget } from '../connections/read-budget.js';
import type { TokenBucket } from '../connections/token-bucket.js';
import { scheduleExpiry } from '../connections/expiry.timer.js';
import { isValidUserId, userIdProblem } from '../connections/user-id.js';
import { forLog } from '../logging/log-escape.js';
import { GatewayMetrics } from '../metrics/gateway.metrics.js';
import { MessageRouter } from '../routing/message-router.service.js';
import { decodeJsonFrame, encodeError, encodePong, jsonOutbound, tooLarge } from './json.codec.js';
import { decodePlainText, plainTextOutbound } from './plain-text.codec.js';
import { ProtocolError } from './protocol-error.js';
import { ErrorCode, STORE_UNAVAILABLE_TEXT } from '../messages/error-code.js';
import { UpgradePolicy } from './upgrade.policy.js';
import { upgradeIdentityOf } from './upgrade-identity.js';

/**
 * Messages a connection may have waiting behind a full window (or behind its inbox drain), in
 * windows: a client that falls this far behind is a slow consumer, closed with 1013.
 */
const BACKLOG_WINDOWS = 8;

/**
 * A client over its rate limit is not read for this long. Shorter than the second without a
 * refusal that ends a run of excess, so a flood still reaches RATE_LIMIT_CLOSE_AFTER_SECONDS.
 */
const RATE_LIMITED_PAUSE_MS = 250;

/**
 * At shutdown, how long the gateway waits for messages already accepted to be routed and written
 * before it closes the connections, and again after; well inside the shutdown deadline.
 */
const SHUTDOWN_ROUTING_WAIT_MS = 1_000;

/** `WebSocket.CLOSED`: the close handshake is over and 'close' has been emitted. */
const SOCKET_CLOSED = 3;

/**
 * Transport glue: turns sockets into `Connection`s, frames into router calls, and owns the
 * lifecycle (open, close, shutdown). It keeps no state of its own.
 */
@WebSocketGateway()
export class ImGateway implements OnGatewayConnection, BeforeApplicationShutdown {
  private readonly logger = new Logger(ImGateway.name);
  private readonly maxPayloadBytes: number;
  private readonly limits: ConnectionLimits;
  private readonly rateCloseAfterMs: number;
  private readonly readBudget = new ReadBudget();

  constructor(
    private readonly pool: ConnectionPool,
    private readonly router: MessageRouter,
    private readonly policy: UpgradePolicy,
    private readonly authenticator: Authenticator,
    private readonly metrics: GatewayMetrics,
    config: AppConfig,
  ) {
    this.maxPayloadBytes = config.ws.maxPayloadBytes;
    this.rateCloseAfterMs = config.limits.rateCloseAfterSeconds * 1000;
    const window = config.ws.maxInflightPerConnection;
    const slowConsumerBytes = config.limits.slowConsumerBytes;
    this.limits = {
      window,
      // The other half of SLOW_CONSUMER_BYTES is for answers and frames written past the window,
      // so a client that reads and acks as fast as it is sent to never trips the check.
      windowBytes: Math.floor(slowConsumerBytes / 2),
      slowConsumerBytes,
      backlogMessages: window * BACKLOG_WINDOWS,
      ratePerSecond: config.limits.ratePerSecond,
      rateBurst: config.limits.rateBurst,
    };
  }

  handleConnection(socket: WebSocket, request: IncomingMessage): void {
    const { user, protocol, expiresAt } = upgradeIdentityOf(request);
    const codec = protocol === 'json' ? jsonOutbound : plainTextOutbound;
    const connection = new Connection(socket, user, protocol, codec, this.limits, this.router);
    socket.on('message', (data: Buffer, isBinary: boolean) => this.onFrame(connection, data, isBinary));
    socket.on('ping', (data: Buffer) => this.onPing(connection, data));
    socket.on('pong', () => this.onPong(connection));
    socket.once('close', (code: number, reason: Buffer) => this.onClose(connection, code, reason));
    if (expiresAt !== undefined) this.expireAt(connection, expiresAt);
    this.router.attach(connection);
    this.metrics.connectionsOpened.inc();
    this.metrics.connections.labels(protocol).inc();
    this.logger.log(`Connected: connection ${connection.id} of user ${forLog(user)} (${protocol})`);
  }

  /**
   * Stop accepting; hand what every connection holds back to the inbox; then close every
   * connection with 1001 and wait (bounded) for them to go.
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.policy.stopAccepting();
    const connections = [...this.pool.connections()];
    // What the connections hold goes back to the inbox before their clients are told to go: a
    // client that reconnects to another node finds it there, ahead of anything newer.
    for (const connection of connections) this.router.detach(connection);
    await this.router.idle(SHUTDOWN_ROUTING_WAIT_MS);
    await Promise.all(connections.map((connection) => this.closeGracefully(connection)));
    await this.router.idle(SHUTDOWN_ROUTING_WAIT_MS);
  }

  private onFrame(connection: Connection, data: Buffer, isBinary: boolean): void {
    this.readBudget.charge(connection, data.length);
    if (isBinary) {
      this.metrics.framesDropped.labels('binary').inc();
      connection.close(CloseCode.UNSUPPORTED_DATA, 'binary frames are not supported');
      return;
    }
    try {
      if (connection.protocol === 'json') this.onJson(connection, data);
      else this.onPlainText(connection, data);
    } catch (error) {
      // One bad frame must never take the connection, or the process, down with it.
      this.logger.warn(`Frame from connection ${connection.id} failed: ${forLog(String(error))}`);
    }
  }

  /**
   * Takes a token for a frame; false when the bucket refused it. Past
   * RATE_LIMIT_CLOSE_AFTER_SECONDS of unbroken excess the client is flooding, not bursting: closed
   * with 1008.
   */
  private rateLimited(connection: Connection, now: number, bucket: TokenBucket = connection.session.rate): boolean {
    if (bucket.take(now)) return false;
    this.metrics.rateLimitedFrames.inc();
    connection.throttle(RATE_LIMITED_PAUSE_MS);
    if (now - bucket.limitedSince >= this.rateCloseAfterMs && connection.isOpen) {
      connection.close(CloseCode.POLICY_VIOLATION, 'rate limit exceeded');
    }
    return true;
  }

  /**
   * Pings are answered here, not by `ws`: each costs a token like any frame, a ping over the
   * limit gets no pong (RFC 6455 allows answering only the latest), and the pong's bytes count
   * toward the slow-consumer check.
   */
  private onPing(connection: Connection, data: Buffer): void {
    this.readBudget.charge(connection, data.length);
    if (this.rateLimited(connection, Date.now())) return;
    connection.pong(data);
  }

  /** The pong that answers the heartbeat's ping is free; any other costs a token, so a flood is still a flood. */
  private onPong(connection: Connection): void {
    this.readBudget.charge(connection, 0);
    if (!connection.isAlive) {
      connection.isAlive = true;
      return;
    }
    this.rateLimited(connection, Date.now());
  }

  private onPlainText(connection: Connection, data: Buffer): void {
    const now = Date.now();
    if (this.rateLimited(connection, now)) return;
    if (data.length > this.maxPayloadBytes) {
      this.metrics.framesDropped.labels('too_large').inc();
      connection.close(CloseCode.MESSAGE_TOO_BIG, `frame larger than ${this.maxPayloadBytes} bytes`);
      return;
    }
    const { to, body } = decodePlainText(data.toString());
    const recipient = to === '' ? connection.session.lastRecipient : to;
    if (recipient === undefined) {
      this.metrics.framesDropped.labels('no_recipient').inc();
      this.logger.debug(`Dropped a frame with no recipient from connection ${connection.id}`);
      return;
    }
    if (recipient !== connection.session.lastRecipient) {
      if (!isValidUserId(recipient)) {
        this.metrics.framesDropped.labels('bad_recipient').inc();
        this.logger.debug(`Dropped a frame with an invalid recipient from connection ${connection.id}`);
        return;
      }
      connection.session.lastRecipient = recipient;
    }
    this.router.sendText(connection.user, recipient, body, now);
  }

  private onJson(connection: Connection, data: Buffer): void {
    const text = data.toString();
    const now = Date.now();
    let charged = false;
    try {
      if (data.length > this.maxPayloadBytes) throw tooLarge(text, this.maxPayloadBytes);
      const frame = decodeJsonFrame(text);
      // Acks are charged after they are applied (`acknowledge`): one that frees a message is
      // never refused, since refusing it would stall the client's own inbox.
      if (frame.event !== 'ack') {
        charged = true;
        if (this.rateLimited(connection, now)) {
          const id = frame.event === 'send' ? frame.id : undefined;
          throw new ProtocolError(ErrorCode.RATE_LIMITED, 'too many frames, slow down', id);
        }
      }
      switch (frame.event) {
        case 'send':
          if (!isValidUserId(frame.to)) {
            throw new ProtocolError(
              ErrorCode.BAD_RECIPIENT,
              `send: "to" is not a valid user id: ${userIdProblem(frame.to)}`,
              frame.id,
            );
          }
          // Read after the close began: no answer can reach the client, which sends it again on its
          // next connection; routed here, it could arrive after what the client sends there.
          if (!connection.isOpen) return;
          // An earlier send was refused and has not come again: this one must not overtake it.
          this.passFence(connection, frame.id, now);
          this.router
            .sendTracked(connection.user, frame.id, frame.to, frame.body, connection, connection.nextSendOrder())
            ?.catch((error: unknown) => {
              this.logger.warn(`Send from connection ${connection.id} failed: ${String(error)}`);
              connection.refuse(frame.id, ErrorCode.STORE_UNAVAILABLE, STORE_UNAVAILABLE_TEXT);
            });
          return;
        case 'ack':
          charged = true;
          if (this.router.acknowledge(connection, frame.ids) === 0)
            this.rateLimited(connection, now, connection.session.ackRate);
          return;
        case 'ping':
          connection.sendFrame(encodePong(Date.now()));
          return;
        case 'refresh':
          void this.refresh(connection, frame.token);
          return;
      }
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      this.metrics.framesDropped.labels(error.code.toLowerCase()).inc();
      // A bad frame costs a token too, and past the limit it gets no answer: a flood of garbage
      // must not buy a flood of error frames.
      if (!charged && this.rateLimited(connection, now)) return;
      if (
        error.id !== undefined &&
        (error.code === ErrorCode.RATE_LIMITED || error.code === ErrorCode.STORE_UNAVAILABLE)
      ) {
        connection.refuse(error.id, error.code, error.message);
        return;
      }
      connection.sendFrame(encodeError(error));
    }
  }

  /** Throws the refusal of send `id` while an earlier refused send of the connection has not come again. */
  private passFence(connection: Connection, id: string, now: number): void {
    const refusal = connection.fenceRefusal(id, now);
    if (refusal !== undefined) throw new ProtocolError(refusal.code, refusal.reason, id);
  }

  private async refresh(connection: Connection, token: string): Promise<void> {
    const result = await this.authenticator.refresh(connection.user, token);
    if (!connection.isOpen) return;
    if (!result.ok) {
      connection.sendFrame(encodeError(new ProtocolError(ErrorCode.BAD_TOKEN, result.reason)));
      return;
    }
    connection.session.expiry?.stop();
    connection.session.expiry = undefined;
    if (result.expiresAt !== undefined) this.expireAt(connection, result.expiresAt);
  }

  private expireAt(connection: Connection, at: number): void {
    connection.session.expiry = scheduleExpiry(at, () => connection.close(CloseCode.TOKEN_EXPIRED, 'token expired'));
  }

  private onClose(connection: Connection, code: number, reason: Buffer): void {
    connection.dispose();
    if (connection.slowConsumer) this.metrics.slowConsumerCloses.inc();
    this.router.detach(connection);
    this.metrics.connections.labels(connection.protocol).dec();
    const seconds = ((Date.now() - connection.openedAt) / 1000).toFixed(1);
    // The reason is the peer's text (at most 123 bytes): escaped, so it cannot forge a log line.
    const why = reason.length > 0 ? ` ${forLog(reason.toString())}` : '';
    this.logger.log(
      `Disconnected: connection ${connection.id} of user ${forLog(connection.user)} (code ${code}${why}, ${seconds} s)`,
    );
  }

  /** Resolves once the socket is closed; at once if it already is (its client left meanwhile). */
  private closeGracefully(connection: Connection): Promise<void> {
    const socket = connection.socket as WebSocket;
    if (socket.readyState === SOCKET_CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      socket.once('close', () => resolve());
      connection.close(CloseCode.GOING_AWAY, 'server shutting down');
    });
  }
}
