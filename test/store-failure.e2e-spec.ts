import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { OfflineMessageStore } from '../src/offline/offline-message.store.js';
import { FaultyOfflineStore } from './support/faulty-offline-store.js';
import { startGateway, tempDir, type TestGateway } from './support/gateway.js';
import { JsonClient } from './support/json-client.js';

/**
 * A gateway whose inbox is `store`, a fake with faults the test turns on: the override is applied
 * to the builder from `Test.createTestingModule` before it compiles.
 */
function startWith(store: FaultyOfflineStore): Promise<TestGateway> {
  return startGateway({}, { override: (builder) => builder.overrideProvider(OfflineMessageStore).useValue(store) });
}

/** Health is red on both probes, and a JSON send to an offline user is refused, never said to be queued. */
async function expectStoreUnavailable(gw: TestGateway): Promise<void> {
  expect((await fetch(`${gw.httpUrl}/health`)).status).toBe(503);
  expect((await fetch(`${gw.httpUrl}/health/ready`)).status).toBe(503);
  const alice = await JsonClient.open(gw.wsUrl('alice'));
  alice.send('c1', 'nobody-online', 'must not be reported stored');
  expect(await alice.next('error')).toMatchObject({ code: 'STORE_UNAVAILABLE', id: 'c1' });
  expect(alice.of('sent')).toEqual([]);
  await alice.close();
}

describe('when the offline store fails', () => {
  let gw: TestGateway | undefined;
  const dir = tempDir();
  afterEach(async () => {
    await gw?.close().catch(() => undefined);
    gw = undefined;
  });
  afterAll(() => dir.remove());

  it('for good: health turns red and no send is said to be queued', async () => {
    const store = new FaultyOfflineStore();
    gw = await startWith(store);
    expect((await fetch(`${gw.httpUrl}/health/ready`)).status).toBe(200);
    store.die();
    await expectStoreUnavailable(gw);
  });

  it('for good, as when the SQLite writer thread dies: the same', async () => {
    gw = await startGateway({ OFFLINE_STORE: 'sqlite', SQLITE_PATH: `${dir.path}/offline.db` });
    // Nothing public kills the thread: this reaches into the driver, to show that a real death
    // reaches the contract that the faulty store fakes.
    const sqlite = gw.app.get(OfflineMessageStore) as unknown as {
      writer: { worker: { terminate(): Promise<number> } };
    };
    await sqlite.writer.worker.terminate();
    await expectStoreUnavailable(gw);
  });

  it('on the idempotency lookup: that send is refused, and its retry is queued once', async () => {
    const store = new FaultyOfflineStore();
    gw = await startWith(store);
    const alice = await JsonClient.open(gw.wsUrl('alice'));
    store.failNextLookup(new Error('disk I/O error'));
    alice.send('c1', 'bob', 'hello');
    expect(await alice.next('error')).toMatchObject({ code: 'STORE_UNAVAILABLE', id: 'c1' });
    expect(alice.of('sent')).toEqual([]);
    alice.send('c1', 'bob', 'hello');
    expect(await alice.next('sent')).toMatchObject({ id: 'c1', status: 'queued' });
    expect(await store.count('bob', Date.now())).toBe(1);
    const bob = (await JsonClient.open(gw.wsUrl('bob'))).ackAll();
    expect((await bob.all('message', 1)).map((m) => m.body)).toEqual(['hello']);
    await Promise.all([alice.close(), bob.close()]);
  });

  it('on the idempotency lookup: the sends behind the refused one are refused too, and their retries arrive in order', async () => {
    const store = new FaultyOfflineStore();
    gw = await startWith(store);
    const alice = await JsonClient.open(gw.wsUrl('alice'));
    store.failNextLookup(new Error('disk I/O error'));
    for (const id of ['c1', 'c2', 'c3']) alice.send(id, 'bob', id);
    expect((await alice.all('error', 3)).map((e) => [e.id, e.code])).toEqual([
      ['c1', 'STORE_UNAVAILABLE'],
      ['c2', 'STORE_UNAVAILABLE'],
      ['c3', 'STORE_UNAVAILABLE'],
    ]);
    expect(await store.count('bob', Date.now())).toBe(0);
    for (const id of ['c1', 'c2', 'c3']) alice.send(id, 'bob', id);
    expect((await alice.all('sent', 3)).map((s) => s.id)).toEqual(['c1', 'c2', 'c3']);
    const bob = (await JsonClient.open(gw.wsUrl('bob'))).ackAll();
    expect((await bob.all('message', 3)).map((m) => m.body)).toEqual(['c1', 'c2', 'c3']);
    await Promise.all([alice.close(), bob.close()]);
  });

  it('on the inbox read of a drain: the client is sent away with 1013, and gets its backlog first on return', async () => {
    const store = new FaultyOfflineStore();
    gw = await startWith(store);
    const alice = await JsonClient.open(gw.wsUrl('alice'));
    alice.send('c1', 'bob', 'first');
    expect(await alice.next('sent')).toMatchObject({ id: 'c1', status: 'queued' });
    store.failNextPeek(new Error('disk I/O error'));
    const turnedAway = await JsonClient.open(gw.wsUrl('bob'));
    expect(await turnedAway.raw.closed()).toEqual({ code: 1013, reason: 'inbox unavailable' });
    alice.send('c2', 'bob', 'second');
    expect(await alice.next('sent')).toMatchObject({ id: 'c2', status: 'queued' });
    const bob = (await JsonClient.open(gw.wsUrl('bob'))).ackAll();
    expect((await bob.all('message', 2)).map((m) => m.body)).toEqual(['first', 'second']);
    await Promise.all([alice.close(), bob.close()]);
  });
});
