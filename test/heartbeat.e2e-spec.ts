import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from './support/eventually.js';
import { startGateway, type TestGateway } from './support/gateway.js';
import { inboxSize } from './support/inbox-size.js';
import { sleep, TestClient } from './support/ws-client.js';

describe('heartbeat', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({ HEARTBEAT_INTERVAL_MS: '200' });
  });
  afterAll(() => gw.close());

  it('terminates a client that never answers pings and routes to the inbox afterwards', async () => {
    const silent = await TestClient.open(gw.wsUrl('bob'), { autoPong: false });
    const closed = await silent.closed(2_000);
    expect(closed.code).toBe(1006); // terminated: no close frame from a server that gave up on the link
    const alice = await TestClient.open(gw.wsUrl('alice'));
    alice.send('bob|kept for later');
    await eventually("alice's message in bob's inbox", async () => expect(await inboxSize(gw, 'bob')).toBe(1));
    const back = await TestClient.open(gw.wsUrl('bob'));
    expect(await back.next()).toBe('kept for later');
    await back.close();
    await alice.close();
  });

  it('keeps a client that answers pings connected indefinitely', async () => {
    const alive = await TestClient.open(gw.wsUrl('carol'));
    await sleep(1_200); // a sleep, not a poll: six heartbeat intervals must pass without a termination
    expect(alive.socket.readyState).toBe(alive.socket.OPEN);
    const alice = await TestClient.open(gw.wsUrl('alice'));
    alice.send('carol|still here');
    expect(await alive.next()).toBe('still here');
    await alive.close();
    await alice.close();
  });
});
