import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryOfflineMessageDriver } from './memory-offline-message.driver.js';
import { describeOfflineStoreContract } from './offline-message.store.contract.js';
import { MAX_SENT_RECORDS } from './offline-message.store.js';
import { SqliteOfflineMessageDriver } from './sqlite-offline-message.driver.js';

describeOfflineStoreContract(
  'memory',
  async () => ({
    store: new MemoryOfflineMessageDriver(),
    cleanup: async () => undefined,
  }),
  { singleInstance: 'its inboxes live in the one store object' },
);

describeOfflineStoreContract('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'im-gateway-store-'));
  const path = join(dir, 'sub', 'offline.db');
  return {
    store: new SqliteOfflineMessageDriver(path),
    reopen: async () => new SqliteOfflineMessageDriver(path),
    openAnother: async () => new SqliteOfflineMessageDriver(path),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

describeOfflineStoreContract('sqlite, no inbox cache', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'im-gateway-store-'));
  const path = join(dir, 'offline.db');
  const open = () => new SqliteOfflineMessageDriver(path, 'full', MAX_SENT_RECORDS, 0);
  return {
    store: open(),
    reopen: async () => open(),
    openAnother: async () => open(),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
});
