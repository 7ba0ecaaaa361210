import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createApp } from './app.factory.js';
import { redisAddress } from './redis/redis-connection.js';
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
        () => {
          logger.log('im-gateway stopped');
          process.exit(0);
        },
        (error: unknown) => {
          logger.error(`Shutdown failed: ${String(error)}`);
          logger.error('im-gateway stopped, with the error above');
          process.exit(1);
        },
      );
  };
}

/** Why the listening socket could not be had, in one line that says what to do; undefined for other errors. */
function listenProblem(error: unknown, host: string, port: number): string | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EADDRINUSE') {
    return `PORT=${port} is already in use on ${host} (another im-gateway, or another program): stop it, or set PORT to a free port`;
  }
  if (code === 'EACCES') {
    return `PORT=${port} on ${host} is not allowed for this user (ports below 1024 need privileges): set PORT to 1024 or above`;
  }
  if (code === 'EADDRNOTAVAIL')
    return `HOST=${host} is not an address of this machine: set HOST to one of its addresses, or 0.0.0.0`;
  return undefined;
}

/**
 * Takes the port for a moment and lets it go, so that a port already in use is one clear line
 * before anything starts, not Nest's "successfully started" followed by EADDRINUSE.
 */
function checkPortFree(host: string, port: number): Promise<void> {
  if (port === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
  });
}

async function bootstrap(config: AppConfig): Promise<void> {
  await checkPortFree(config.http.host, config.http.port);
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

/**
 * What an operator checks first, one line each: who may connect, where messages are kept, the
 * chat page when it is on, and where to connect (last, so it is the line to look for).
 */
function logStartup(config: AppConfig, logger: Logger): void {
  const { host, port } = config.http;
  if (config.auth.mode === 'query') {
    logger.warn('Auth: AUTH_MODE=query, the user is whatever ?user= says: anyone can connect as anyone');
  } else {
    logger.log(`Auth: AUTH_MODE=jwt, the user is the token's "sub"`);
  }
  logger.log(inboxLine(config));
  const reachable = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
  if (config.web.enabled) logger.log(`Chat page: http://${reachable}:${port}/ (WEB_CLIENT=true)`);
  logger.log(`im-gateway listening on http://${host}:${port}; connect to ws://${reachable}:${port}${config.ws.path}`);
}

/** Where messages for offline users are kept, and (in a cluster) which node this is. */
function inboxLine(config: AppConfig): string {
  const { driver, sqlitePath } = config.offline;
  const cluster = config.cluster.mode === 'redis' ? `; cluster node ${config.cluster.nodeId}` : '';
  switch (driver) {
    case 'sqlite':
      return `Inbox: sqlite at ${resolve(sqlitePath)}`;
    case 'memory':
      return 'Inbox: memory (lost on restart)';
    case 'redis':
      return `Inbox: redis at ${redisAddress(config.redis.url)}, keys under ${config.redis.keyPrefix}${cluster}`;
    default: {
      const unknown: never = driver;
      return `Inbox: ${String(unknown)}`;
    }
  }
}

const config = configOrExit();
bootstrap(config).catch((error: unknown) => {
  const { host, port } = config.http;
  const reason = listenProblem(error, host, port) ?? (error instanceof Error ? error.message : String(error));
  process.stderr.write(`im-gateway failed to start: ${reason}\n`);
  process.exit(1);
});
