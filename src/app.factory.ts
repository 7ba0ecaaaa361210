import { type LogLevel as NestLogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import http from 'node:http';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from './app.module.js';
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
function serverFactory(handler: http.RequestListener): http.Server {
  return http.createServer(
    {
      headersTimeout: HANDSHAKE_TIMEOUT_MS,
      requestTimeout: HANDSHAKE_TIMEOUT_MS,
      connectionsCheckingInterval: DEADLINE_CHECK_INTERVAL_MS,
    },
    handler,
  );
}

const LEVELS: readonly NestLogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

/** Every Nest level at or above `level`. */
function levelsFrom(level: LogLevel): NestLogLevel[] {
  return LEVELS.slice(0, LEVELS.indexOf(level) + 1);
}

/** Builds the application (HTTP on Fastify, WebSocket on `ws`) without listening. */
export async function createApp(config: AppConfig): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), new FastifyAdapter({ serverFactory }), {
    logger: levelsFrom(config.log.level),
    abortOnError: false,
  });
  app.useWebSocketAdapter(new GatewayWsAdapter(app, config, app.get(UpgradePolicy)));
  return app;
}
