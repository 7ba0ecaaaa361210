import { type ArgumentsHost, Catch, ConsoleLogger, Logger, type LogLevel as NestLogLevel } from '@nestjs/common';
import { BaseExceptionFilter, NestFactory } from '@nestjs/core';
import { createServer, type IncomingMessage, type RequestListener, type Server } from 'node:http';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { adminRouteHook } from './admin/admin-route.hook.js';
import { AppModule } from './app.module.js';
import { MAX_USER_ID_CHARS } from './connections/user-id.js';
import type { AppConfig, LogLevel } from './config/app-config.js';
import { GatewayWsAdapter } from './gateway/gateway-ws.adapter.js';
import { UpgradePolicy } from './gateway/upgrade.policy.js';

/**
 * An upgrade whose headers have not all arrived by then is dropped: slowloris costs us a socket
 * each. Header size is bounded by Node's own limit (16 KiB, answered with 431).
 */
const HANDSHAKE_TIMEOUT_MS = 10_000;
/** How often Node looks for requests past their deadline (its default, 30 s, would triple ours). */
const DEADLINE_CHECK_INTERVAL_MS = 1_000;

/** The HTTP server under Fastify, with request deadlines enforced within a second. */
function serverFactory(handler: RequestListener): Server {
  return createServer(
    {
      headersTimeout: HANDSHAKE_TIMEOUT_MS,
      requestTimeout: HANDSHAKE_TIMEOUT_MS,
      connectionsCheckingInterval: DEADLINE_CHECK_INTERVAL_MS,
    },
    handler,
  );
}

/**
 * No route outside the admin API takes a body: a larger one is refused (413) before it is read.
 * Admin routes have their own limit, derived from MAX_PAYLOAD_BYTES (`adminBodyLimit`).
 */
const BODY_LIMIT_BYTES = 1_024;

/** Node's error code when a client closes its connection before the request body ended. */
const ABORTED_CODE = 'ECONNRESET';

/** The parts of Fastify's request the filter reads. */
interface AbortableRequest {
  readonly raw: IncomingMessage;
  readonly method: string;
}

/**
 * A client that closes its connection in the middle of its request body is no server fault, and
 * there is no one left to answer: it is logged at debug, with no stack trace. Fastify hands the
 * body stream's `aborted` error to Nest's exception layer, which would log it at error with a
 * stack, once per request anyone can make. Every other exception goes on to Nest's own handling.
 */
@Catch()
class AbortedRequestFilter extends BaseExceptionFilter {
  private readonly logger = new Logger(AbortedRequestFilter.name);

  override catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<Partial<AbortableRequest>>();
    const aborted =
      (exception as NodeJS.ErrnoException | undefined)?.code === ABORTED_CODE && request.raw?.complete === false;
    if (!aborted) {
      super.catch(exception, host);
      return;
    }
    // The path only: a query string may carry a token.
    this.logger.debug(`${request.method} ${request.raw!.url?.split('?')[0]}: request body aborted by the client`);
    this.applicationRef!.end(http.getResponse());
  }
}

const LEVELS: readonly NestLogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

/** Every Nest level at or above `level`. */
function levelsFrom(level: LogLevel): NestLogLevel[] {
  return LEVELS.slice(0, LEVELS.indexOf(level) + 1);
}

/** Nest's own logger: one JSON object per line in production (LOG_FORMAT=json), readable text otherwise. */
function createLogger(config: AppConfig): ConsoleLogger {
  const json = config.log.format === 'json';
  return new ConsoleLogger({
    logLevels: levelsFrom(config.log.level),
    json,
    colors: !json && process.stdout.isTTY === true && process.env.NO_COLOR === undefined,
  });
}

/** Builds the application (HTTP on Fastify, WebSocket on `ws`) without listening. */
export async function createApp(config: AppConfig): Promise<NestFastifyApplication> {
  const http = new FastifyAdapter({
    serverFactory,
    // 128 code points can be 256 UTF-16 units; longer path segments would be refused with 414.
    routerOptions: { maxParamLength: 2 * MAX_USER_ID_CHARS },
    bodyLimit: BODY_LIMIT_BYTES,
  });
  // Added before Nest registers the routes, so that each admin route is registered with it.
  if (config.admin.token !== undefined)
    http.getInstance().addHook('onRoute', adminRouteHook(config.admin.token, config.ws.maxPayloadBytes));
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), http, {
    logger: createLogger(config),
    abortOnError: false,
  });
  app.useGlobalFilters(new AbortedRequestFilter(app.getHttpAdapter()));
  app.useWebSocketAdapter(new GatewayWsAdapter(app, config, app.get(UpgradePolicy)));
  return app;
}
