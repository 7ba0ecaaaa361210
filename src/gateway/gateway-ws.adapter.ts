import { Logger, type INestApplicationContext } from '@nestjs/common';
import { WsAdapter } from '@nestjs/platform-ws';
import type { MessageMappingProperties } from '@nestjs/websockets';
import type { IncomingMessage } from 'node:http';
import type { Observable } from 'rxjs';
import type { WebSocketServer } from 'ws';
import type { AppConfig } from '../config/app-config.js';
import { FRAME_CEILING_FACTOR, JSON_SUBPROTOCOL } from './gateway.constants.js';
import type { UpgradePolicy } from './upgrade.policy.js';

interface VerifyInfo {
  req: IncomingMessage;
}
type VerifyCallback = (accept: boolean, status?: number, reason?: string) => void;

/**
 * Nest's `ws` adapter, configured from `AppConfig` and made safe for a public endpoint:
 * - every upgrade goes through `UpgradePolicy` and is refused with an HTTP status before a
 *   socket exists;
 * - the `im.v1.json` subprotocol is selected when offered;
 * - frames are not dispatched through Nest's rxjs pipeline: `ImGateway` binds one direct frame
 *   listener per connection (the pipeline costs about twice the CPU per message);
 * - socket errors caused by clients (bad UTF-8, oversized frames) are logged at debug, never as
 *   errors, so a client cannot flood the logs.
 */
export class GatewayWsAdapter extends WsAdapter {
  private readonly log = new Logger(GatewayWsAdapter.name);

  constructor(
    app: INestApplicationContext,
    private readonly config: AppConfig,
    private readonly policy: UpgradePolicy,
  ) {
    super(app);
  }

  override create(port: number, options: Record<string, unknown> = {}): WebSocketServer {
    return super.create(port, {
      ...options,
      path: this.config.ws.path,
      maxPayload: this.config.ws.maxPayloadBytes * FRAME_CEILING_FACTOR,
      perMessageDeflate: false,
      clientTracking: false,
      // ImGateway answers pings itself, under the rate limit and the slow-consumer check.
      autoPong: false,
      verifyClient: (info: VerifyInfo, done: VerifyCallback) => {
        this.policy.decide(info.req).then(
          (decision) => (decision.accept ? done(true) : done(false, decision.status, decision.reason)),
          (error: unknown) => {
            this.log.error(`Upgrade check failed: ${String(error)}`);
            done(false, 500, 'internal error');
          },
        );
      },
      handleProtocols: (offered: Set<string>) => (offered.has(JSON_SUBPROTOCOL) ? JSON_SUBPROTOCOL : false),
    }) as WebSocketServer;
  }

  /** Frames are handled by `ImGateway`'s own listener; see the class comment. */
  override bindMessageHandlers(
    _client: unknown,
    _handlers: MessageMappingProperties[],
    _transform: (data: unknown) => Observable<unknown>,
  ): void {}

  override bindErrorHandler(server: WebSocketServer): WebSocketServer {
    server.on('connection', (socket) =>
      socket.on('error', (error) => this.log.debug(`Client socket error: ${error.message}`)),
    );
    server.on('error', (error) => this.log.error(`WebSocket server error: ${error.message}`));
    return server;
  }
}
