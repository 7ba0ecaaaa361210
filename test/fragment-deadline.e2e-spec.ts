import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FRAGMENT_DEADLINE_MS, FRAGMENT_SWEEP_MS } from '../src/connections/fragment-deadline.js';
import { startGateway, type TestGateway } from './support/gateway.js';
import { TestClient } from './support/ws-client.js';

describe('fragmented messages', () => {
  let gw: TestGateway;
  const open: TestClient[] = [];
  const connect = async (user: string): Promise<TestClient> => {
    const client = await TestClient.open(gw.wsUrl(user));
    open.push(client);
    return client;
  };

  beforeEach(async () => {
    gw = await startGateway();
  });
  afterEach(async () => {
    for (const client of open.splice(0)) client.socket.terminate();
    await gw.close();
  });

  it('are delivered whole when their last fragment arrives', async () => {
    const alice = await connect('alice');
    const bob = await connect('bob');
    alice.socket.send('bob|frag', { fin: false });
    alice.socket.send('mented', { fin: true });
    expect(await bob.next()).toBe('fragmented');
  });

  it(`close with 1008 a client that leaves one unfinished for ${FRAGMENT_DEADLINE_MS} ms; others keep flowing`, async () => {
    const alice = await connect('alice');
    const bob = await connect('bob');
    const mallory = await connect('mallory');
    const started = Date.now();
    mallory.socket.send(`bob|${'x'.repeat(1_000)}`, { fin: false });

    alice.send('bob|while it waits');
    expect(await bob.next()).toBe('while it waits');
    const closed = await mallory.closed(FRAGMENT_DEADLINE_MS + 2 * FRAGMENT_SWEEP_MS + 1_000);
    const elapsed = Date.now() - started;

    expect(closed).toEqual({ code: 1008, reason: 'fragmented message not finished in time' });
    expect(elapsed).toBeGreaterThanOrEqual(FRAGMENT_DEADLINE_MS);
    expect(elapsed).toBeLessThan(FRAGMENT_DEADLINE_MS + 2 * FRAGMENT_SWEEP_MS);
    alice.send('bob|after it was closed');
    expect(await bob.next()).toBe('after it was closed');
    expect(bob.received).toEqual(['while it waits', 'after it was closed']);
    const metrics = await (await fetch(`${gw.httpUrl}/metrics`)).text();
    expect(metrics).toContain('im_gateway_frames_dropped_total{reason="unfinished_fragments"} 1');
  });
});
