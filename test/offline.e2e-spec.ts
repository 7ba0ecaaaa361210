import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from './support/eventually.js';
import { startGateway, tempDir, type TestGateway } from './support/gateway.js';
import { inboxSize } from './support/inbox-size.js';
import { metric } from './support/metric.js';
import { expectSilence, TestClient } from './support/ws-client.js';

describe('offline inbox', () => {
  let gw: TestGateway | undefined;
  const dirs: Array<{ remove(): void }> = [];
  afterEach(async () => {
    await gw?.close();
    gw = undefined;
    for (const d of dirs.splice(0)) d.remove();
  });
  const sqlite = () => {
    const dir = tempDir();
    dirs.push(dir);
    return { OFFLINE_STORE: 'sqlite', SQLITE_PATH: `${dir.path}/nested/offline.db` };
  };

  it.each(['memory', 'sqlite'])(
    'queues for a user who never connected and delivers in order on connect (%s)',
    async (driver) => {
      gw = await startGateway(driver === 'sqlite' ? sqlite() : { OFFLINE_STORE: 'memory' });
      const alice = await TestClient.open(gw.wsUrl('alice'));
      for (let i = 0; i < 50; i++) alice.send(`bob|m${i}`);
      await eventually("50 messages in bob's inbox", async () => expect(await inboxSize(gw!, 'bob')).toBe(50));
      const bob = await TestClient.open(gw.wsUrl('bob'));
      expect(await bob.waitFor(50)).toEqual(Array.from({ length: 50 }, (_, i) => `m${i}`));
      await bob.close();
      // Delivered messages were removed: the next connection gets nothing again.
      await eventually("bob's inbox emptied", async () => expect(await inboxSize(gw!, 'bob')).toBe(0));
      const again = await TestClient.open(gw.wsUrl('bob'));
      await expectSilence(again, 300);
      await again.close();
      await alice.close();
    },
  );

  it('makes a live message that arrives during the drain wait behind the inbox', async () => {
    gw = await startGateway(sqlite());
    const alice = await TestClient.open(gw.wsUrl('alice'));
    const count = 3_000;
    for (let i = 0; i < count; i++) alice.send(`bob|old${i}`);
    await eventually(`${count} messages in bob's inbox`, async () => expect(await inboxSize(gw!, 'bob')).toBe(count));
    const bob = await TestClient.open(gw.wsUrl('bob'));
    alice.send('bob|live');
    const got = await bob.waitFor(count + 1);
    expect(got.at(-1)).toBe('live');
    expect(got.slice(0, count)).toEqual(Array.from({ length: count }, (_, i) => `old${i}`));
    await bob.close();
    await alice.close();
  });

  it('never delivers a message older than OFFLINE_TTL_SECONDS', async () => {
    gw = await startGateway({ ...sqlite(), OFFLINE_TTL_SECONDS: '1' });
    const alice = await TestClient.open(gw.wsUrl('alice'));
    alice.send('bob|stale');
    // Counted by the write, not the inbox: the inbox stops counting the message once it expires.
    await eventually('the stale message written', async () =>
      expect(await metric(gw!.httpUrl, 'im_gateway_inbox_writes_total')).toBe(1),
    );
    // OFFLINE_TTL_SECONDS=1: about a second later it no longer counts.
    await eventually('the stale message expired', async () => expect(await inboxSize(gw!, 'bob')).toBe(0));
    alice.send('bob|fresh');
    await eventually("the fresh message in bob's inbox", async () => expect(await inboxSize(gw!, 'bob')).toBe(1));
    const bob = await TestClient.open(gw.wsUrl('bob'));
    expect(await bob.next()).toBe('fresh');
    await expectSilence(bob, 200);
    await bob.close();
    await alice.close();
  });

  it('keeps the inbox across a restart on the same SQLite file', async () => {
    const env = sqlite();
    gw = await startGateway(env);
    const alice = await TestClient.open(gw.wsUrl('alice'));
    alice.send('bob|survives restarts');
    await eventually("the message in bob's inbox", async () => expect(await inboxSize(gw!, 'bob')).toBe(1));
    await alice.close();
    await gw.close();
    gw = await startGateway(env);
    const bob = await TestClient.open(gw.wsUrl('bob'));
    expect(await bob.next()).toBe('survives restarts');
    await bob.close();
  });
});
