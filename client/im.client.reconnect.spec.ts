import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { FakeWebSocketFactory } from './testing/fake-web-socket.js';
import { connectedHarness, createHarness, flushMicrotasks, TEST_URL } from './testing/im-client.harness.js';

/** Drops the newest connection with `code` and returns how long the client waited before the next one. */
async function delayAfterDrop(factory: FakeWebSocketFactory, code = 1006): Promise<number> {
  const droppedAt = Date.now();
  const count = factory.sockets.length;
  factory.last().serverClose(code);
  await vi.advanceTimersToNextTimerAsync();
  expect(factory.sockets).toHaveLength(count + 1);
  return Date.now() - droppedAt;
}

/** Fails `attempts` connections in a row and returns the delay before each retry. */
async function retryDelays(random: () => number, attempts: number): Promise<number[]> {
  const { client, factory } = createHarness({ reconnect: { random } });
  void client.connect();
  const delays: number[] = [];
  for (let attempt = 0; attempt < attempts; attempt++) delays.push(await delayAfterDrop(factory));
  client.close();
  return delays;
}

describe('ImClient reconnect', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('reconnects after the server goes away, reporting the close and the states', async () => {
    const { client, socket, events } = await connectedHarness();
    socket().serverClose(1001, 'server shutting down');
    expect(events.closes).toEqual([{ code: 1001, reason: 'server shutting down', willReconnect: true }]);
    expect(client.state).toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(125);
    socket().serverOpen();
    expect(client.state).toBe('open');
    expect(events.states).toEqual(['connecting', 'open', 'reconnecting', 'open']);
    expect(events.opens).toBe(2);
  });

  it.each([1000, 1008, 1011, 1013])('reconnects with backoff after close code %i', async (code) => {
    const { factory, events } = await connectedHarness();
    factory.last().serverClose(code);
    expect(events.closes[0].willReconnect).toBe(true);
    await vi.advanceTimersByTimeAsync(125);
    expect(factory.sockets).toHaveLength(2);
  });

  it('waits a growing, capped delay between failed attempts', async () => {
    // Half of each ceiling: 250 ms doubling per attempt up to the 10 s cap.
    const delays = await retryDelays(() => 0.5, 8);
    expect(delays).toEqual([125, 250, 500, 1_000, 2_000, 4_000, 5_000, 5_000]);
  });

  it('jitters each delay below its ceiling', async () => {
    const draws = [0.1, 0.9, 0.5];
    const delays = await retryDelays(() => draws.shift() ?? 0.5, 3);
    expect(delays).toEqual([25, 450, 500]);
  });

  it('starts over from the initial delay after a connection that lasted', async () => {
    const { client, factory } = createHarness({ pingIntervalMs: 60_000 });
    void client.connect();
    expect([await delayAfterDrop(factory), await delayAfterDrop(factory), await delayAfterDrop(factory)]).toEqual([
      125, 250, 500,
    ]);
    factory.last().serverOpen();
    await vi.advanceTimersByTimeAsync(30_000);
    expect(await delayAfterDrop(factory, 1001)).toBe(125);
  });

  it('keeps growing the delay when each connection is dropped right after it opens', async () => {
    const { client, factory } = createHarness();
    void client.connect();
    const delays: number[] = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      factory.last().serverOpen();
      delays.push(await delayAfterDrop(factory, 1013));
    }
    expect(delays).toEqual([125, 250, 500]);
  });

  it('connects at once when connect() is called during a backoff wait', async () => {
    const { client, factory } = await connectedHarness({ reconnect: { initialDelayMs: 5_000 } });
    factory.last().serverClose(1006);
    const reconnected = client.connect();
    expect(factory.sockets).toHaveLength(2);
    factory.last().serverOpen();
    await expect(reconnected).resolves.toBeUndefined();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(factory.sockets).toHaveLength(2);
  });

  it('pings on every interval while the server answers', async () => {
    const { socket, factory } = await connectedHarness({ pingIntervalMs: 1_000, pingTimeoutMs: 500 });
    for (let tick = 0; tick < 3; tick++) {
      await vi.advanceTimersByTimeAsync(1_000);
      socket().serverSend('pong', { ts: Date.now() });
    }
    expect(socket().dataOf('ping')).toEqual([{}, {}, {}]);
    expect(factory.sockets).toHaveLength(1);
  });

  it('counts any frame from the server as a sign of life, not only a pong', async () => {
    const { client, socket, factory } = await connectedHarness({ pingIntervalMs: 1_000, pingTimeoutMs: 500 });
    client.on('message', () => {});
    await vi.advanceTimersByTimeAsync(1_000);
    socket().serverSend('message', { id: 'm1', from: 'bob', to: 'alice', body: 'hi', ts: 1 });
    await vi.advanceTimersByTimeAsync(600);
    expect(factory.sockets).toHaveLength(1);
  });

  it('closes a link that stays silent after a ping and reconnects, resending the outbox', async () => {
    const { client, factory, events } = await connectedHarness({ pingIntervalMs: 1_000, pingTimeoutMs: 500 });
    const dead = factory.last();
    const sending = client.send('bob', 'are you there?', { id: 'c1' });
    await vi.advanceTimersByTimeAsync(1_500);
    expect(dead.closedByClient).toEqual({ code: 3008, reason: 'ping timeout' });
    expect(dead.isDetached).toBe(true);
    expect(events.closes).toEqual([{ code: 3008, reason: 'ping timeout', willReconnect: true }]);
    await vi.advanceTimersByTimeAsync(125);
    factory.last().serverOpen();
    expect(factory.last().dataOf('send')).toEqual([{ id: 'c1', to: 'bob', body: 'are you there?' }]);
    factory.last().serverSend('sent', { id: 'c1', messageId: 'm1', status: 'delivered' });
    await expect(sending).resolves.toBe('delivered');
  });

  it.each([
    [4001, 'replaced'],
    [4003, 'kicked'],
    [4401, 'token expired'],
  ])('stays closed after close code %i (%s) and rejects pending sends', async (code, reason) => {
    const { client, factory, events } = await connectedHarness({ token: 'jwt' });
    const pending = client.send('bob', 'hello', { id: 'c1' });
    const outcome = expect(pending).rejects.toMatchObject({ code: 'CLIENT_CLOSED', closeCode: code, id: 'c1' });
    factory.last().serverClose(code, reason);
    await outcome;
    expect(events.closes).toEqual([{ code, reason, willReconnect: false }]);
    expect(client.state).toBe('closed');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(factory.sockets).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it.each([4003, 4401])('comes back after close code %i with a fresh token from getToken', async (code) => {
    const tokens = ['first', 'second'];
    const { client, factory, events } = createHarness({ getToken: () => tokens.shift() as string });
    const connected = client.connect();
    await flushMicrotasks();
    factory.last().serverOpen();
    await connected;
    void client.send('bob', 'hello', { id: 'c1' });
    factory.last().serverClose(code);
    expect(events.closes).toEqual([{ code, reason: '', willReconnect: true }]);
    await vi.advanceTimersByTimeAsync(125);
    expect(factory.last().url).toBe(`${TEST_URL}?token=second`);
    factory.last().serverOpen();
    expect(factory.last().dataOf('send')).toEqual([{ id: 'c1', to: 'bob', body: 'hello' }]);
  });

  it('stays closed after close() and leaves nothing running', async () => {
    const { client, factory, events } = await connectedHarness();
    const socket = factory.last();
    client.close();
    client.close();
    expect(socket.closedByClient).toEqual({ code: 1000, reason: 'client closed' });
    expect(socket.isDetached).toBe(true);
    expect(events.closes).toEqual([{ code: 1000, reason: 'client closed', willReconnect: false }]);
    expect(events.states.at(-1)).toBe('closed');
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(factory.sockets).toHaveLength(1);
  });

  it('stops a pending reconnect on close() and rejects a waiting connect()', async () => {
    const { client, factory } = await connectedHarness();
    factory.last().serverClose(1006);
    const waiting = client.connect();
    factory.last().serverClose(1006);
    client.close();
    await expect(waiting).rejects.toMatchObject({ code: 'CLIENT_CLOSED' });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(factory.sockets).toHaveLength(2);
  });

  it('starts again on connect() after close()', async () => {
    const { client, factory } = await connectedHarness();
    client.close();
    const reconnected = client.connect();
    factory.last().serverOpen();
    await expect(reconnected).resolves.toBeUndefined();
    expect(factory.last().url).toBe(`${TEST_URL}?user=alice`);
    expect(client.state).toBe('open');
  });
});
