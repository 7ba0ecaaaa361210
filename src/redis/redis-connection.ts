import { Logger } from '@nestjs/common';
import { Redis } from 'ioredis';

/** How long the boot waits for Redis before it fails with a one-line error. */
export const CONNECT_TIMEOUT_MS = 5_000;
/** Reconnect attempts back off to this: Redis's return is noticed within a second. */
const MAX_RECONNECT_DELAY_MS = 1_000;
/**
 * A command unanswered this long fails: a Redis that hangs without closing its connection (a
 * network partition, a stopped process) must not hold sends, drains and the shutdown forever.
 */
const COMMAND_TIMEOUT_MS = 3_000;
/** TCP keepalive probes start after this much silence, so a dead peer is noticed. */
const KEEPALIVE_MS = 10_000;

/** `host:port` of a Redis URL, never its password: fit for logs and errors. */
export function redisAddress(url: string): string {
  try {
    const { hostname, port } = new URL(url);
    return `${hostname}:${port || '6379'}`;
  } catch {
    return 'REDIS_URL';
  }
}

/**
 * A Redis connection of the gateway (the inbox, presence, the node bus): it reconnects by
 * itself, and a command made while Redis is away fails at once instead of waiting in a queue,
 * so a send gets its retryable error now and not after the outage.
 */
export function connectRedis(url: string, name: string): Redis {
  return new Redis(url, {
    connectionName: name,
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    retryStrategy: (attempt) => Math.min(attempt * 100, MAX_RECONNECT_DELAY_MS),
    commandTimeout: COMMAND_TIMEOUT_MS,
    keepAlive: KEEPALIVE_MS,
  });
}

/**
 * Connects `client` and resolves once it is ready; past `timeoutMs` rejects with an error naming
 * `what` and the address (never the password), and the last connection error seen.
 */
export async function whenReady(
  client: Redis,
  url: string,
  what: string,
  timeoutMs = CONNECT_TIMEOUT_MS,
): Promise<void> {
  let lastError: Error | undefined;
  const noteError = (error: Error): void => {
    lastError = error;
  };
  client.on('error', noteError);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const cause = lastError === undefined ? '' : ` (${lastError.message})`;
      reject(
        new Error(
          `${what}: Redis at ${redisAddress(url)} (REDIS_URL) did not answer within ${timeoutMs / 1000} s${cause}`,
        ),
      );
    }, timeoutMs);
  });
  const ready = new Promise<void>((resolve) => client.once('ready', () => resolve()));
  // A failed first attempt is retried like any later one; only the deadline ends the wait.
  client.connect().catch(() => undefined);
  try {
    await Promise.race([ready, timeout]);
  } catch (error) {
    client.disconnect();
    throw error;
  } finally {
    clearTimeout(timer);
    client.off('error', noteError);
  }
}

/**
 * Logs a client's losses and returns once each, not on every reconnect attempt, and keeps count
 * of errors for the metrics.
 */
export function watchRedis(client: Redis, what: string, logger: Logger, onError: () => void = () => undefined): void {
  let lost = false;
  client.on('error', (error: Error) => {
    onError();
    if (lost) return;
    lost = true;
    logger.warn(`${what}: Redis connection lost (${error.message}); retrying every second`);
  });
  client.on('ready', () => {
    if (!lost) return;
    lost = false;
    logger.log(`${what}: Redis connection is back`);
  });
}

/**
 * Calls `handler` each time `client` loses a connection it had ready: once per outage, not on
 * every failed reconnect attempt in between.
 */
export function onDropped(client: Redis, handler: () => void): void {
  let ready = false;
  client.on('ready', () => (ready = true));
  client.on('close', () => {
    if (!ready) return;
    ready = false;
    handler();
  });
}
