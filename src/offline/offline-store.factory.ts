import type { AppConfig } from '../config/app-config.js';
import { MemoryOfflineMessageDriver } from './memory-offline-message.driver.js';
import { MAX_SENT_RECORDS, type OfflineMessageStore } from './offline-message.store.js';
import { RedisOfflineMessageDriver } from './redis-offline-message.driver.js';
import { SqliteOfflineMessageDriver } from './sqlite-offline-message.driver.js';

/** Builds the configured inbox driver; the switch is exhaustive so a new driver cannot be forgotten. */
export function createOfflineStore(config: Pick<AppConfig, 'offline' | 'redis'>): OfflineMessageStore {
  const { offline, redis } = config;
  const driver = offline.driver;
  switch (driver) {
    case 'sqlite':
      return new SqliteOfflineMessageDriver(
        offline.sqlitePath,
        offline.sqliteSynchronous,
        MAX_SENT_RECORDS,
        offline.inboxCacheBytes,
      );
    case 'memory':
      return new MemoryOfflineMessageDriver();
    case 'redis':
      return new RedisOfflineMessageDriver(redis.url, redis.keyPrefix);
    default: {
      const unknown: never = driver;
      throw new Error(`Unknown OFFLINE_STORE driver: ${String(unknown)}`);
    }
  }
}
