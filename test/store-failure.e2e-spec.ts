import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OfflineMessageStore } from '../src/offline/offline-message.store.js';
import { startGateway, tempDir, type TestGateway } from './support/gateway.js';
import { JsonClient } from './support/json-client.js';

describe('when the SQLite writer thread dies', () => {
  let gw: TestGateway;
  const dir = tempDir();
  beforeAll(async () => {
    gw = await startGateway({ OFFLINE_STORE: 'sqlite', SQLITE_PATH: `${dir.path}/offline.db` });
  });
  afterAll(async () => {
    await gw.close().catch(() => undefined);
    dir.remove();
  });

  it('turns health red and refuses to say queued', async () => {
    const store = gw.app.get(OfflineMessageStore) as unknown as {
      writer: { worker: { terminate(): Promise<number> } };
    };
    await store.writer.worker.terminate();
    expect((await fetch(`${gw.httpUrl}/health`)).status).toBe(503);
    expect((await fetch(`${gw.httpUrl}/health/ready`)).status).toBe(503);
    const alice = await JsonClient.open(gw.wsUrl('alice'));
    alice.send('c1', 'nobody-online', 'must not be reported stored');
    expect(await alice.next('error')).toMatchObject({ code: 'STORE_UNAVAILABLE', id: 'c1' });
    expect(alice.of('sent')).toEqual([]);
    await alice.close();
  });
});
