import { afterEach, describe, expect, it } from 'vitest';
import { connectRedis, whenReady } from '../redis/redis-connection.js';
import type { BusEnvelope } from './node-bus.js';
import { RedisNodeBus } from './redis-node-bus.js';
import { redisAvailable, TEST_REDIS_URL } from '../../test/support/redis-test.js';
import { until } from '../../test/support/sdk-user.js';

const url = (await redisAvailable()) ? TEST_REDIS_URL : undefined;

describe.skipIf(url === undefined)('RedisNodeBus (Redis at REDIS_URL or 127.0.0.1:6379)', () => {
  const prefix = `imtest:bus:${process.pid}:${Date.now()}:`;
  const stops: Array<() => void> = [];
  afterEach(() => {
    for (const stop of stops.splice(0)) stop();
  });

  async function node(id: string, timing = { probeIntervalMs: 100, deafAfterMs: 500 }) {
    const publisher = connectRedis(url!, `spec-${id}`);
    const subscriber = connectRedis(url!, `spec-${id}-sub`);
    publisher.on('error', () => undefined);
    subscriber.on('error', () => undefined);
    await Promise.all([whenReady(publisher, url!, 'spec'), whenReady(subscriber, url!, 'spec')]);
    const received: BusEnvelope[] = [];
    const events = { deaf: 0, roundTrips: 0 };
    const bus = new RedisNodeBus(
      publisher,
      subscriber,
      prefix,
      id,
      { roundTrip: () => events.roundTrips++, error: () => undefined, deaf: () => events.deaf++ },
      timing,
    );
    bus.onEnvelope((envelope) => received.push(envelope));
    await bus.start();
    stops.push(() => {
      bus.stop();
      publisher.disconnect();
      subscriber.disconnect();
    });
    return { bus, subscriber, received, events };
  }

  it('delivers envelopes to the node they are addressed to, and only to it, in order', async () => {
    const a = await node('a');
    const b = await node('b');
    const c = await node('c');
    for (let i = 0; i < 5; i++) a.bus.send('b', { t: 'rcpt', u: 'bob', id: `m${i}` });
    await until(() => b.received.length === 5, 'five envelopes at b');
    expect(b.received.map((e) => (e as { id: string }).id)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
    expect(c.received).toEqual([]);
    expect(a.received).toEqual([]);
  });

  it('measures the round trip of its own probes', async () => {
    const a = await node('a');
    await until(() => a.events.roundTrips >= 2, 'two probe round trips');
    expect(a.bus.isHealthy()).toBe(true);
  });

  it('notices a subscription that stopped hearing, reports it, and hears again after resubscribing', async () => {
    const a = await node('a');
    const b = await node('b');
    // Deaf: the connection is fine, but nothing published to the node's channel reaches it.
    await b.subscriber.unsubscribe(`${prefix}bus:b`);
    await until(() => b.events.deaf === 1, 'deafness reported');
    await until(() => b.bus.isHealthy(), 'the bus hearing again');
    a.bus.send('b', { t: 'kick', u: 'bob' });
    await until(() => b.received.length === 1, 'the kick at b');
    expect(b.received).toEqual([{ t: 'kick', u: 'bob' }]);
  });
});
