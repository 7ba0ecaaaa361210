import {
  ConsoleLogger,
  type DynamicModule,
  type NestApplicationOptions,
  type LogLevel as NestLogLevel,
} from '@nestjs/common';
import { createServer, type RequestListener, type Server } from 'node:http';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { AbortedRequestFilter } from './aborted-request.filter.js';
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

/** Fastify on the server above; with ADMIN_TOKEN set, every admin route gets the admin hook. */
function createHttpAdapter(config: AppConfig): FastifyAdapter {
  const http = new FastifyAdapter({
    serverFactory,
    // 128 code points can be 256 UTF-16 units; longer path segments would be refused with 414.
    routerOptions: { maxParamLength: 2 * MAX_USER_ID_CHARS },
    bodyLimit: BODY_LIMIT_BYTES,
    // At close every HTTP connection goes, busy or idle: by then the WebSocket connections are
    // closed, and a keep-alive connection whose request was still being answered when the idle
    // ones were closed would otherwise hold the server open past the shutdown deadline (a
    // reconnecting client's upgrade, served as a plain request once the WebSocket server is gone).
    forceCloseConnections: true,
  });
  // Added before Nest registers the routes, so that each admin route is registered with it.
  if (config.admin.token !== undefined)
    http.getInstance().addHook('onRoute', adminRouteHook(config.admin.token, config.ws.maxPayloadBytes));
  return http;
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

/**
 * Everything the gateway is built from. `createApp` builds the running application from it and
 * the e2e tests build theirs (through `Test.createTestingModule`) from it too, so what is tested
 * is what runs: a step added here reaches both, and none may be added to either alone.
 */
export interface AppWiring {
  /** The root module, holding the validated config. */
  readonly module: DynamicModule;
  /** Fastify with request deadlines, the small body limit and the admin route hook; one per application. */
  readonly httpAdapter: FastifyAdapter;
  /** `logger` is also the logger while the modules are built, before the application exists. */
  readonly options: NestApplicationOptions & { readonly logger: ConsoleLogger };
  /** What is set up on the built application before it listens. */
  configure(app: NestFastifyApplication): void;
}

/** A fresh wiring for one application (HTTP on Fastify, WebSocket on `ws`) configured by `config`. */
export function appWiring(config: AppConfig): AppWiring {
  return {
    module: AppModule.forRoot(config),
    httpAdapter: createHttpAdapter(config),
    options: { logger: createLogger(config), abortOnError: false },
    configure(app) {
      app.useGlobalFilters(new AbortedRequestFilter(app.getHttpAdapter()));
      app.useWebSocketAdapter(new GatewayWsAdapter(app, config, app.get(UpgradePolicy)));
    },
  };
}
