import { connect as tcpConnect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from './support/eventually.js';
import { startGateway, type TestGateway } from './support/gateway.js';
import { inboxSize } from './support/inbox-size.js';
import { JsonClient } from './support/json-client.js';
import { metric } from './support/metric.js';
import { sleep, TestClient, UpgradeRefused, withTimeout } from './support/ws-client.js';

describe('limits', () => {
  let gw: TestGateway | undefined;
  const open: Array<{ close(): Promise<void> }> = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close().catch(() => undefined)));
    await gw?.close();
    gw = undefined;
  });
  const text = async (user: string, options?: Parameters<typeof TestClient.open>[1]) => {
    const c = await TestClient.open(gw!.wsUrl(user), options);
    open.push(c);
    return c;
  };
  const refusal = async (user: string) => {
    const error = await TestClient.open(gw!.wsUrl(user)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UpgradeRefused);
    return error as UpgradeRefused;
  };

  it('RATE_LIMIT: a JSON frame past the burst gets RATE_LIMITED and is not accepted', async () => {
    gw = await startGateway({ RATE_LIMIT_PER_SECOND: '1', RATE_LIMIT_BURST: '3' });
    const alice = await JsonClient.open(gw.wsUrl('alice'));
    open.push(alice);
    for (let i = 0; i < 5; i++) alice.send(`c${i}`, 'bob', `m${i}`);
    const errors = await alice.all('error', 2);
    expect(errors).toEqual([
      expect.objectContaining({ code: 'RATE_LIMITED', id: 'c3' }),
      expect.objectContaining({ code: 'RATE_LIMITED', id: 'c4' }),
    ]);
    const sent = await alice.all('sent', 3);
    expect(sent.map((s) => s.id)).toEqual(['c0', 'c1', 'c2']);
    const bob = await JsonClient.open(gw.wsUrl('bob'));
    open.push(bob);
    expect((await bob.all('message', 3)).map((m) => m.body)).toEqual(['m0', 'm1', 'm2']);
    // A sleep, not a poll: proves the two refused messages never arrive.
    await sleep(200);
    expect(bob.of('message')).toHaveLength(3);
  });

  it('RATE_LIMIT: a send after a refused one is refused too until the refused one comes again, so the order holds', async () => {
    gw = await startGateway({ RATE_LIMIT_PER_SECOND: '20', RATE_LIMIT_BURST: '2' });
    const alice = await JsonClient.open(gw.wsUrl('alice'));
    open.push(alice);
    for (let i = 0; i < 3; i++) alice.send(`c${i}`, 'bob', `m${i}`);
    expect(await alice.next('error')).toMatchObject({ code: 'RATE_LIMITED', id: 'c2' });
    // A token is back, but c3 would overtake c2: it is refused, naming the send it waits behind.
    await sleep(120);
    alice.send('c3', 'bob', 'm3');
    const fenced = (await alice.all('error', 2))[1]!;
    expect(fenced).toMatchObject({ code: 'RATE_LIMITED', id: 'c3' });
    expect(fenced.message).toContain('"c2"');
    // The client resends from c2, in order, and both go through.
    await sleep(120);
    alice.send('c2', 'bob', 'm2');
    await sleep(60);
    alice.send('c3', 'bob', 'm3');
    expect((await alice.all('sent', 4)).map((s) => s.id)).toEqual(['c0', 'c1', 'c2', 'c3']);
    const bob = await JsonClient.open(gw.wsUrl('bob'));
    open.push(bob);
    expect((await bob.all('message', 4)).map((m) => m.body)).toEqual(['m0', 'm1', 'm2', 'm3']);
  });

  it('RATE_LIMIT: bad JSON frames cost tokens too, and past the limit get no answer', async () => {
    gw = await startGateway({ RATE_LIMIT_PER_SECOND: '1', RATE_LIMIT_BURST: '3' });
    const mallory = await JsonClient.open(gw.wsUrl('mallory'));
    open.push(mallory);
    for (let i = 0; i < 20; i++) mallory.raw.send('{}');
    await mallory.all('error', 3);
    // A sleep, not a poll: proves the 17 frames past the burst get no answer.
    await sleep(300);
    expect(mallory.of('error')).toHaveLength(3);
  });

  it('RATE_LIMIT: plain text drops the excess and closes with 1008 a client that stays over the limit', async () => {
    gw = await startGateway({ RATE_LIMIT_PER_SECOND: '5', RATE_LIMIT_BURST: '5', RATE_LIMIT_CLOSE_AFTER_SECONDS: '1' });
    const bob = await text('bob');
    const flood = await text('mallory');
    for (let i = 0; i < 20; i++) flood.send(`bob|${i}`);
    await bob.waitFor(5);
    // A sleep, not a poll: proves the frames past the burst are dropped, not delivered late.
    await sleep(100);
    expect(bob.received).toEqual(['0', '1', '2', '3', '4']);
    const closed = (async () => {
      for (let i = 0; i < 40 && flood.socket.readyState === flood.socket.OPEN; i++) {
        flood.send('bob|more');
        // A sleep, not a poll: the flood must stay over the limit for RATE_LIMIT_CLOSE_AFTER_SECONDS.
        await sleep(50);
      }
      return flood.closed();
    })();
    expect((await closed).code).toBe(1008);
  });

  it('MAX_CONNECTIONS_PER_USER: the next upgrade of that user is refused with 429', async () => {
    gw = await startGateway({ MAX_CONNECTIONS_PER_USER: '2' });
    await text('bob');
    await text('bob');
    expect((await refusal('bob')).status).toBe(429);
    await text('alice');
  });

  it('MAX_CONNECTIONS: the next upgrade is refused with 503', async () => {
    gw = await startGateway({ MAX_CONNECTIONS: '2' });
    await text('a');
    await text('b');
    expect((await refusal('c')).status).toBe(503);
  });

  it('INBOX_MAX_MESSAGES: a message past it is not stored, a JSON sender gets INBOX_FULL, old ones stay', async () => {
    gw = await startGateway({ INBOX_MAX_MESSAGES: '3' });
    const alice = await JsonClient.open(gw.wsUrl('alice'));
    open.push(alice);
    for (let i = 0; i < 4; i++) alice.send(`c${i}`, 'bob', `m${i}`);
    const errors = await alice.all('error', 1);
    expect(errors[0]).toMatchObject({ code: 'INBOX_FULL', id: 'c3' });
    expect((await alice.all('sent', 3)).map((s) => s.status)).toEqual(['queued', 'queued', 'queued']);
    const plain = await text('carol');
    plain.send('bob|dropped too');
    await eventually('the plain-text message dropped at the full inbox', async () =>
      expect(await metric(gw!.httpUrl, 'im_gateway_frames_dropped_total{reason="inbox_full"}')).toBe(2),
    );
    const bob = await text('bob');
    await bob.waitFor(3);
    // A sleep, not a poll: proves neither refused message arrives.
    await sleep(200);
    expect(bob.received).toEqual(['m0', 'm1', 'm2']);
  });

  it('SLOW_CONSUMER_BYTES: a JSON client that does not read is closed with 1013 and loses nothing', async () => {
    gw = await startGateway({ SLOW_CONSUMER_BYTES: '1048576', MAX_INFLIGHT_PER_CONNECTION: '1000' });
    const bob = await JsonClient.open(gw.wsUrl('bob'));
    open.push(bob);
    bob.raw.socket.pause(); // stops reading from the TCP socket
    const alice = await TestClient.open(gw.wsUrl('alice'));
    open.push(alice);
    const body = 'x'.repeat(16_000);
    const count = 400; // 6.4 MB: far beyond what kernel buffers absorb
    for (let i = 0; i < count; i++) alice.send(`bob|${i}:${body}`);
    // The gateway gives a burst 1 s to drain before it calls the reader slow and hands its messages
    // back. All of them: Alice may still be sending when Bob is called slow, and a reconnect while
    // her frames still arrive would pile them up behind its drain (a case of its own).
    await eventually(
      'bob called a slow consumer, all his messages back in his inbox',
      async () => expect(await inboxSize(gw!, 'bob')).toBe(count),
      10_000,
    );
    bob.raw.socket.resume(); // read what was in flight, then the close frame
    expect((await bob.raw.closed(10_000)).code).toBe(1013);
    // Nothing was acked: every message comes again on the next connection, in order.
    const again = (await JsonClient.open(gw.wsUrl('bob'))).ackAll();
    open.push(again);
    const redelivered = await again.all('message', count);
    expect(redelivered.map((m) => m.body.split(':')[0])).toEqual(Array.from({ length: count }, (_, i) => String(i)));
  });

  it('handshake: an upgrade whose headers never finish is dropped', async () => {
    gw = await startGateway();
    const socket = tcpConnect(gw.port, '127.0.0.1');
    socket.resume();
    socket.write('GET /ws?user=slow HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n');
    const started = Date.now();
    await withTimeout(new Promise((resolve) => socket.once('close', resolve)), 'slow upgrade dropped', 15_000);
    expect(Date.now() - started).toBeLessThan(13_000);
  }, 20_000);

  it('handshake: oversized headers are refused with 431', async () => {
    gw = await startGateway();
    const socket = tcpConnect(gw.port, '127.0.0.1');
    let answer = '';
    socket.on('data', (d) => (answer += d.toString()));
    socket.write(
      `GET /ws?user=big HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
    );
    await withTimeout(new Promise((resolve) => socket.once('close', resolve)), 'oversized upgrade refused');
    expect(answer).toMatch(/^HTTP\/1\.1 431/);
  });
});
