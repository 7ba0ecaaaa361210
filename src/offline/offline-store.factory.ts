import type { AppConfig } from '../config/app-config.js';
import { MemoryOfflineMessageDriver } from './memory-offline-message.driver.js';
import type { OfflineMessageStore } from './offline-message.store.js';
import { SqliteOfflineMessageDriver } from './sqlite-offline-message.driver.js';

/** Builds the configured inbox driver; the switch is exhaustive so a new driver cannot be forgotten. */
export function createOfflineStore(config: AppConfig['offline']): OfflineMessageStore {
  const driver = config.driver;
  switch (driver) {
    case 'sqlite':
      return new SqliteOfflineMessageDriver(config.sqlitePath, config.sqliteSynchronous);
    case 'memory':
      return new MemoryOfflineMessageDriver();
    default: {
      const unknown: never = driver;
      throw new Error(`Unknown OFFLINE_STORE driver: ${String(unknown)}`);
    }
  }
}
