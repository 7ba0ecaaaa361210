import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

/** The Redis the suites use; on these machines one runs at 6379 and keeps nothing on disk. */
export const TEST_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A key prefix of the suite's own, so that runs never see each other's keys. */
export function testKeyPrefix(suite: string): string {
  return `imtest:${suite}:${randomBytes(4).toString('hex')}:`;
}

/**
 * Whether Redis answers. With CI=true a missing Redis fails the suite instead of skipping it:
 * CI must never pass by testing nothing.
 */
export async function redisAvailable(url = TEST_REDIS_URL): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    // A local Redis answers at once; a missing one should not hold a suite up long.
    connectTimeout: 1_000,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
    return true;
  } catch (error) {
    // Host and port only: a CI's REDIS_URL may hold a password.
    const at = new URL(url).host;
    if (process.env.CI === 'true')
      throw new Error(`Redis at ${at} (REDIS_URL) is required with CI=true: ${String(error)}`);
    console.warn(`Redis suites skipped: no Redis at ${at} (start one, or set REDIS_URL; with CI=true this fails)`);
    return false;
  } finally {
    client.disconnect();
  }
}

/** Every key under `prefix`, sorted, by SCAN (never KEYS on a shared Redis): as the inbox's purge finds its own. */
export async function keysUnder(client: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  return keys.sort();
}

/** Deletes every key under `prefix`. */
export async function deleteKeysUnder(url: string, prefix: string): Promise<void> {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    const keys = await keysUnder(client, prefix);
    for (let i = 0; i < keys.length; i += 500) await client.del(...keys.slice(i, i + 500));
  } finally {
    client.disconnect();
  }
}
