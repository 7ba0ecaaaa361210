import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createApp } from './app.factory.js';
import type { AppConfig } from './config/app-config.js';
import { ConfigError, loadConfig } from './config/load-config.js';
import { ReadinessState } from './health/readiness.state.js';
import { startShutdownWatchdog } from './shutdown-watchdog.js';

/** After the drain, closing connections and the store must fit in this; past it the process is killed. */
const CLOSE_DEADLINE_MS = 4_500;

function configOrExit(): AppConfig {
  try {
    return loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
}

/**
 * SIGTERM: /health/ready turns 503 at once so load balancers stop sending new clients; after
 * SHUTDOWN_DRAIN_MS the gateway stops accepting, closes every connection with 1001 (clients
 * reconnect elsewhere), returns unacked messages to the inbox, closes the store and exits 0.
 * SHUTDOWN_DRAIN_MS + CLOSE_DEADLINE_MS after the signal, the watchdog thread kills the process
 * if it is still there, however busy this thread is.
 */
function onTerminate(
  app: NestFastifyApplication,
  config: AppConfig,
  logger: Logger,
  watchdog: { arm(): void },
): (signal: string) => void {
  let stopping = false;
  return (signal) => {
    if (stopping) return;
    stopping = true;
    watchdog.arm();
    logger.log(`${signal} received: draining for ${config.shutdown.drainMs} ms, then shutting down`);
    app.get(ReadinessState).markDraining();
    sleep(config.shutdown.drainMs)
      .then(() => app.close())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error(`Shutdown failed: ${String(error)}`);
          process.exit(1);
        },
      );
  };
}

async function bootstrap(): Promise<void> {
  const config = configOrExit();
  const app = await createApp(config);
  const logger = new Logger('Main');
  const watchdog = startShutdownWatchdog(
    { deadlineMs: config.shutdown.drainMs + CLOSE_DEADLINE_MS, json: config.log.format === 'json' },
    (error) => logger.error(`Shutdown watchdog failed; the shutdown deadline is not enforced: ${error.message}`),
  );
  const terminate = onTerminate(app, config, logger, watchdog);
  process.once('SIGTERM', () => terminate('SIGTERM'));
  process.once('SIGINT', () => terminate('SIGINT'));
  await app.listen(config.http.port, config.http.host);
  logStartup(config, logger);
}

/** What an operator checks first, one line each: who may connect, where messages are kept, where to connect. */
function logStartup(config: AppConfig, logger: Logger): void {
  const { host, port } = config.http;
  if (config.auth.mode === 'query') {
    logger.warn('Auth: AUTH_MODE=query, the user is whatever ?user= says: anyone can connect as anyone');
  } else {
    logger.log(`Auth: AUTH_MODE=jwt, the user is the token's "sub"`);
  }
  const { driver, sqlitePath } = config.offline;
  logger.log(driver === 'sqlite' ? `Inbox: sqlite at ${resolve(sqlitePath)}` : 'Inbox: memory (lost on restart)');
  const reachable = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
  logger.log(`im-gateway listening on http://${host}:${port}; connect to ws://${reachable}:${port}${config.ws.path}`);
}

bootstrap().catch((error: unknown) => {
  process.stderr.write(`im-gateway failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
