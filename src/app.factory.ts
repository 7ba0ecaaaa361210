import { ConsoleLogger, type LogLevel as NestLogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { createServer, type RequestListener, type Server } from 'node:http';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
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

/** An admin message body of MAX_PAYLOAD_BYTES, JSON-escaped (up to 6 bytes a character) with its envelope. */
const ADMIN_BODY_LIMIT_FACTOR = 7;

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
    bodyLimit: ADMIN_BODY_LIMIT_FACTOR * config.ws.maxPayloadBytes,
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), http, {
    logger: createLogger(config),
    abortOnError: false,
  });
  app.useWebSocketAdapter(new GatewayWsAdapter(app, config, app.get(UpgradePolicy)));
  return app;
}
