import { afterEach, describe, expect, it, vi } from 'vitest';
import { OfflineMessageStore } from '../src/offline/offline-message.store.js';
import { startGateway, tempDir, type TestGateway } from './support/gateway.js';
import { eventually } from './support/eventually.js';
import { JsonClient } from './support/json-client.js';
import { metric } from './support/metric.js';
import { TestClient, withTimeout } from './support/ws-client.js';

/**
 * Limits that fit together: the in-flight window is bounded in bytes as well as messages, so a
 * client that reads and acks as fast as it can is never taken for a slow consumer, and whatever
 * goes back to the inbox meets the same quota as a new message.
 */
describe('flow control and inbox quotas', () => {
  let gw: TestGateway | undefined;
  let dir: ReturnType<typeof tempDir> | undefined;
  const open: Array<{ close(): Promise<void> }> = [];
  afterEach(async () => {
    vi.restoreAllMocks();
    await Promise.all(open.splice(0).map((c) => c.close().catch(() => undefined)));
    await gw?.close();
    gw = undefined;
    dir?.remove();
    dir = undefined;
  });
  const sqlite = async (env: Record<string, string> = {}) => {
    dir = tempDir();
    gw = await startGateway({ OFFLINE_STORE: 'sqlite', SQLITE_PATH: `${dir.path}/offline.db`, ...env });
    return gw;
  };
  const json = async (user: string) => {
    const c = await JsonClient.open(gw!.wsUrl(user));
    open.push(c);
    return c;
  };
  /** `count` messages of `bytes` each queued for `to`, every one confirmed `queued`. */
  const queue = async (to: string, count: number, bytes: number) => {
    const sender = await json(`sender-of-${to}`);
    for (let i = 0; i < count; i++) sender.send(`q-${i}`, to, `${i}:`.padEnd(bytes, 'x'));
    const sent = await withTimeout(sender.all('sent', count), `${count} confirmations`, 60_000);
    expect(new Set(sent.map((s) => s.status))).toEqual(new Set(['queued']));
  };

  it.each([
    { payload: 65_536, count: 1_000, bytes: 64_000 },
    { payload: 1_048_576, count: 40, bytes: 1_000_000 },
  ])(
    'a client that acks as it reads drains $count messages of $bytes bytes (MAX_PAYLOAD_BYTES=$payload) without a 1013',
    async ({ payload, count, bytes }) => {
      await sqlite({ MAX_PAYLOAD_BYTES: String(payload), INBOX_MAX_BYTES: String(256 * 1024 * 1024) });
      await queue('carol', count, bytes);
      const carol = (await json('carol')).ackAll();
      const received = await withTimeout(carol.all('message', count), `${count} messages`, 60_000);
      expect(received.map((m) => Number(m.body.split(':')[0]))).toEqual(Array.from({ length: count }, (_, i) => i));
      expect(carol.raw.socket.readyState).toBe(carol.raw.socket.OPEN);
      expect(await metric(gw!.httpUrl, 'im_gateway_slow_consumer_closes_total')).toBe(0);
    },
    90_000,
  );

  it('INBOX_MAX_BYTES: a message past the byte quota gets INBOX_FULL and is not stored; older ones stay', async () => {
    await sqlite({ INBOX_MAX_BYTES: '200000' });
    const alice = await json('alice');
    for (let i = 0; i < 4; i++) alice.send(`b-${i}`, 'bob', `${i}:`.padEnd(60_000, 'x'));
    const sent = await alice.all('sent', 3);
    expect(sent.map((s) => s.id)).toEqual(['b-0', 'b-1', 'b-2']);
    const error = await alice.next('error');
    expect(error).toMatchObject({ code: 'INBOX_FULL', id: 'b-3', message: expect.stringContaining('200000 bytes') });
    const bob = (await json('bob')).ackAll();
    const received = await bob.all('message', 3);
    expect(received.map((m) => m.body.split(':')[0])).toEqual(['0', '1', '2']);
    // Delivered messages leave the inbox and free its quota.
    await bob.close();
    for (let i = 4; i < 7; i++) alice.send(`b-${i}`, 'bob', `${i}:`.padEnd(60_000, 'x'));
    const later = await alice.all('sent', 6);
    expect(later.slice(3).map((s) => [s.id, s.status])).toEqual([
      ['b-4', 'queued'],
      ['b-5', 'queued'],
      ['b-6', 'queued'],
    ]);
  });

  it('a message returning to a full inbox is refused like a new one: its JSON sender hears INBOX_FULL', async () => {
    gw = await startGateway({ INBOX_MAX_MESSAGES: '3' });
    const bob = await json('bob'); // reads, never acks
    const alice = await json('alice');
    for (let i = 0; i < 5; i++) alice.send(`r-${i}`, 'bob', `m${i}`);
    await bob.all('message', 5);
    await bob.close(); // the five go back to bob's inbox, which takes three
    const sent = await alice.all('sent', 3);
    expect(sent.map((s) => [s.id, s.status])).toEqual([
      ['r-0', 'queued'],
      ['r-1', 'queued'],
      ['r-2', 'queued'],
    ]);
    const refused = [await alice.next('error'), await alice.next('error')];
    expect(refused.map((e) => [e.id, e.code])).toEqual([
      ['r-3', 'INBOX_FULL'],
      ['r-4', 'INBOX_FULL'],
    ]);
    const again = (await json('bob')).ackAll();
    expect((await again.all('message', 3)).map((m) => m.body)).toEqual(['m0', 'm1', 'm2']);
  });

  it('a plain-text message returning to a full inbox is dropped and counted', async () => {
    gw = await startGateway({ INBOX_MAX_MESSAGES: '1' });
    const bob = await json('bob'); // reads, never acks
    const alice = await TestClient.open(gw.wsUrl('alice'));
    open.push(alice);
    alice.send('bob|one');
    alice.send('bob|two');
    await bob.all('message', 2);
    await bob.close();
    await eventually(
      'the refusal counted',
      async () => expect(await metric(gw!.httpUrl, 'im_gateway_frames_dropped_total{reason="inbox_full"}')).toBe(1),
      5_000,
    );
    const again = (await json('bob')).ackAll();
    expect((await again.all('message', 1)).map((m) => m.body)).toEqual(['one']);
  });

  it('/health/ready is 503 while the store cannot write, and turns 200 by itself once it can', async () => {
    await sqlite();
    const store = gw!.app.get(OfflineMessageStore);
    const full = new Error('SQLITE_FULL: database or disk is full');
    const write = vi.spyOn(store, 'write').mockRejectedValue(full);
    const probe = vi.spyOn(store, 'probe').mockRejectedValue(full);
    const alice = await json('alice');
    alice.send('h-1', 'bob', 'x');
    expect(await alice.next('error')).toMatchObject({ code: 'STORE_UNAVAILABLE', id: 'h-1' });
    expect((await fetch(`${gw!.httpUrl}/health/ready`)).status).toBe(503);
    alice.send('h-2', 'bob', 'x');
    expect(await alice.next('error')).toMatchObject({ code: 'STORE_UNAVAILABLE', id: 'h-2' });
    expect((await fetch(`${gw!.httpUrl}/health/ready`)).status).toBe(503);
    // The disk has room again; no client sends anything, and the probe finds out.
    write.mockRestore();
    probe.mockRestore();
    await eventually(
      'ready again',
      async () => expect((await fetch(`${gw!.httpUrl}/health/ready`)).status).toBe(200),
      5_000,
    );
    // Resent from the first refused send, as the protocol asks: the sends after it went no further.
    for (const id of ['h-1', 'h-2', 'h-3']) alice.send(id, 'bob', 'x');
    expect((await alice.all('sent', 3)).map((s) => [s.id, s.status])).toEqual([
      ['h-1', 'queued'],
      ['h-2', 'queued'],
      ['h-3', 'queued'],
    ]);
  });
});
