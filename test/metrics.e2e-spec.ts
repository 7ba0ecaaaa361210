import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from './support/eventually.js';
import { startGateway, type TestGateway } from './support/gateway.js';
import { JsonClient } from './support/json-client.js';
import { sleep, TestClient } from './support/ws-client.js';
import { sample } from './support/metric.js';

describe('GET /metrics', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({
      HEARTBEAT_INTERVAL_MS: '200',
      OFFLINE_TTL_SECONDS: '1',
      RATE_LIMIT_PER_SECOND: '1',
      RATE_LIMIT_BURST: '1',
    });
  });
  afterAll(() => gw.close());

  it('counts what the gateway did, in Prometheus text format', async () => {
    // Live, inbox, inbox delivery with an ack, a refused upgrade, a heartbeat kill, a rate-limited frame.
    const alice = await JsonClient.open(gw.wsUrl('alice'));
    const bob = await TestClient.open(gw.wsUrl('bob'));
    alice.send('c1', 'bob', 'live');
    await bob.next();
    await sleep(1_100); // a sleep, not a poll: the one-token bucket refills with time, and shows no state
    alice.send('c3', 'dave', 'x');
    alice.send('c4', 'dave', 'rate limited');
    await alice.next('error');
    await sleep(1_100); // a sleep, not a poll: the one-token bucket refills with time, and shows no state
    alice.send('c4', 'dave', 'rate limited'); // sent again first: later sends wait behind it
    await sleep(1_100);
    alice.send('c2', 'carol', 'queued'); // OFFLINE_TTL_SECONDS=1: carol comes at once
    await eventually("carol's message queued", () =>
      expect(alice.of('sent')).toContainEqual(expect.objectContaining({ id: 'c2', status: 'queued' })),
    );
    const carol = await JsonClient.open(gw.wsUrl('carol'));
    const message = await carol.next('message');
    carol.ack(message.id);
    await alice.next('receipt');
    await TestClient.open(`ws://127.0.0.1:${gw.port}/ws`).catch(() => undefined);
    const silent = await TestClient.open(gw.wsUrl('silent'), { autoPong: false });
    await silent.closed(2_000);

    const res = await fetch(`${gw.httpUrl}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(sample(text, 'im_gateway_connections{protocol="json"}')).toBe(2);
    expect(sample(text, 'im_gateway_connections{protocol="text"}')).toBe(1);
    expect(sample(text, 'im_gateway_messages_routed_total{path="local"}')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'im_gateway_messages_routed_total{path="inbox"}')).toBeGreaterThanOrEqual(2);
    expect(sample(text, 'im_gateway_inbox_deliveries_total')).toBe(1);
    expect(sample(text, 'im_gateway_upgrades_refused_total{reason="bad_user"}')).toBe(1);
    expect(sample(text, 'im_gateway_heartbeat_terminations_total')).toBe(1);
    expect(sample(text, 'im_gateway_rate_limited_frames_total')).toBe(1);
    expect(sample(text, 'im_gateway_delivery_latency_seconds_count')).toBeGreaterThanOrEqual(2);
    expect(text).toContain('# TYPE im_gateway_delivery_latency_seconds histogram');
    expect(text).toContain('process_cpu_user_seconds_total');

    // Inbox writes are counted when their batch commits.
    await eventually('two inbox writes counted', async () => {
      const after = await (await fetch(`${gw.httpUrl}/metrics`)).text();
      expect(sample(after, 'im_gateway_inbox_writes_total')).toBeGreaterThanOrEqual(2);
    });
    await Promise.all([alice.close(), bob.close(), carol.close()]);
  });

  it('counts expired messages when the purge runs', async () => {
    const alice = await TestClient.open(gw.wsUrl('alice2'));
    alice.send('nobody|expires');
    const purge = gw.app.get((await import('../src/offline/offline-message.service.js')).OfflineMessageService);
    // OFFLINE_TTL_SECONDS=1: the purge finds the message expired about a second after it was sent.
    await eventually('the purge removing the expired message', async () =>
      expect(await purge.purgeExpired()).toBeGreaterThanOrEqual(1),
    );
    const text = await (await fetch(`${gw.httpUrl}/metrics`)).text();
    expect(sample(text, 'im_gateway_expired_messages_total')).toBeGreaterThanOrEqual(1);
    await alice.close();
  });
});

describe('delivery latency of the plain-text fast path', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({});
  });
  afterAll(() => gw.close());

  it('counts messages written in the accepting turn at 0 s, so the count matches the messages routed', async () => {
    const alice = await TestClient.open(gw.wsUrl('alice-fast'));
    const bob = await TestClient.open(gw.wsUrl('bob-fast'));
    const scrape = async () => {
      const text = await (await fetch(`${gw.httpUrl}/metrics`)).text();
      return {
        count: sample(text, 'im_gateway_delivery_latency_seconds_count')!,
        fastest: sample(text, 'im_gateway_delivery_latency_seconds_bucket{le="0.0005"}')!,
        slowest: sample(text, 'im_gateway_delivery_latency_seconds_bucket{le="+Inf"}')!,
        sum: sample(text, 'im_gateway_delivery_latency_seconds_sum')!,
        routed: sample(text, 'im_gateway_messages_routed_total{path="local"}')!,
      };
    };
    const before = await scrape();
    for (let i = 0; i < 50; i++) alice.send(`bob-fast|fast ${i}`);
    expect(await bob.waitFor(50)).toHaveLength(50);
    const after = await scrape();
    expect(after.routed - before.routed).toBe(50);
    expect(after.count - before.count).toBe(50);
    expect(after.fastest - before.fastest).toBe(50);
    expect(after.slowest - before.slowest).toBe(50);
    expect(after.sum).toBe(before.sum);
    await alice.close();
    await bob.close();
  });
});
