import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ImClient } from './im.client.js';
import { connectedHarness, createHarness, flushMicrotasks, TEST_URL } from './testing/im-client.harness.js';
import { fakeWebSocketFactory } from './testing/fake-web-socket.js';

describe('ImClient connection', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('connects as the user, offering the im.v1.json subprotocol', async () => {
    const { client, socket, events } = createHarness({ user: 'al ice&co' });
    const connected = client.connect();
    expect(socket().url).toBe(`${TEST_URL}?user=al%20ice%26co`);
    expect(socket().protocols).toEqual(['im.v1.json']);
    expect(client.state).toBe('connecting');
    socket().serverOpen();
    await expect(connected).resolves.toBeUndefined();
    expect(client.state).toBe('open');
    expect(events.states).toEqual(['connecting', 'open']);
    expect(events.opens).toBe(1);
  });

  it('connects with a token, keeping the query the URL already has', () => {
    const { client, socket } = createHarness({ url: `${TEST_URL}?region=eu`, token: 'jwt.a+b' });
    void client.connect();
    expect(socket().url).toBe(`${TEST_URL}?region=eu&token=jwt.a%2Bb`);
  });

  it('asks getToken for a token before the connection', async () => {
    const getToken = vi.fn(async () => 'fresh');
    const { client, socket } = createHarness({ getToken });
    void client.connect();
    await flushMicrotasks();
    expect(getToken).toHaveBeenCalledTimes(1);
    expect(socket().url).toBe(`${TEST_URL}?token=fresh`);
  });

  it('retries with backoff when getToken fails, reporting TOKEN_FAILED', async () => {
    const tokens = [Promise.reject(new Error('offline')), Promise.resolve('second')];
    const { client, factory, events } = createHarness({ getToken: () => tokens.shift() as Promise<string> });
    void client.connect();
    await flushMicrotasks();
    expect(factory.sockets).toHaveLength(0);
    expect(events.errors.map((error) => error.code)).toEqual(['TOKEN_FAILED']);
    expect(client.state).toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(125);
    expect(factory.last().url).toBe(`${TEST_URL}?token=second`);
  });

  it('sends a refreshed token to the server and reconnects with it', async () => {
    const { client, socket } = await connectedHarness({ token: 'old' });
    client.refreshToken('new');
    expect(socket().dataOf('refresh')).toEqual([{ token: 'new' }]);
    socket().serverClose(1001);
    await vi.advanceTimersByTimeAsync(125);
    expect(socket().url).toBe(`${TEST_URL}?token=new`);
  });

  it('returns the same open connection when connect() is called again', async () => {
    const { client, factory } = await connectedHarness();
    await client.connect();
    expect(factory.sockets).toHaveLength(1);
  });

  it('fails with a clear error when no WebSocket implementation exists', () => {
    vi.stubGlobal('WebSocket', undefined);
    try {
      expect(() => new ImClient({ url: TEST_URL, user: 'alice' })).toThrow(
        /no WebSocket implementation.*WebSocket option/,
      );
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it('uses the global WebSocket by default, as in a browser', () => {
    const factory = fakeWebSocketFactory();
    vi.stubGlobal('WebSocket', factory.WebSocket);
    try {
      void new ImClient({ url: TEST_URL, user: 'alice' }).connect();
      expect(factory.sockets).toHaveLength(1);
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it('rejects options that cannot work, naming the option', () => {
    const WebSocket = fakeWebSocketFactory().WebSocket;
    const base = { url: TEST_URL, user: 'a', WebSocket };
    expect(() => new ImClient({ url: TEST_URL, WebSocket })).toThrow(/exactly one of the options user, token/);
    expect(() => new ImClient({ ...base, token: 't' })).toThrow(/exactly one/);
    expect(() => new ImClient({ ...base, url: 'http://gateway.test/ws' })).toThrow(/option url must be a ws/);
    expect(() => new ImClient({ ...base, pingIntervalMs: 0 })).toThrow(/option pingIntervalMs/);
    expect(() => new ImClient({ ...base, reconnect: { initialDelayMs: 500, maxDelayMs: 100 } })).toThrow(
      /option reconnect.maxDelayMs/,
    );
  });

  it('drops a server that did not select the subprotocol and tries again', async () => {
    const { client, factory, events } = createHarness();
    const connected = client.connect();
    const first = factory.last();
    first.serverOpen('');
    expect(events.errors.map((error) => error.code)).toEqual(['PROTOCOL_MISMATCH']);
    expect(first.closedByClient).toEqual({ code: 1000, reason: 'subprotocol mismatch' });
    expect(events.opens).toBe(0);
    await vi.advanceTimersByTimeAsync(125);
    factory.last().serverOpen();
    await expect(connected).resolves.toBeUndefined();
    expect(factory.sockets).toHaveLength(2);
  });

  it('abandons a handshake that hangs and tries again', async () => {
    const { client, factory, events } = createHarness({ connectTimeoutMs: 2_000 });
    void client.connect();
    await vi.advanceTimersByTimeAsync(2_000);
    expect(factory.sockets[0].closedByClient).toEqual({ code: 3008, reason: 'connect timeout' });
    expect(events.closes).toEqual([{ code: 3008, reason: 'connect timeout', willReconnect: true }]);
    await vi.advanceTimersByTimeAsync(125);
    expect(factory.sockets).toHaveLength(2);
  });

  it('reports socket errors and reconnects after the failed connection closes', async () => {
    const { client, factory, events } = createHarness();
    void client.connect();
    factory.last().serverError('connect ECONNREFUSED');
    factory.last().serverClose(1006);
    expect(events.errors).toMatchObject([{ code: 'SOCKET_ERROR', message: 'connect ECONNREFUSED' }]);
    expect(client.state).toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(125);
    expect(factory.sockets).toHaveLength(2);
  });
});
