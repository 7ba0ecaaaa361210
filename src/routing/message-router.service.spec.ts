import { beforeEach, describe, expect, it } from 'vitest';
import type { AppConfig, SessionPolicy } from '../config/app-config.js';
import { ConnectionPool } from '../connections/connection-pool.service.js';
import { Connection, type SocketLike } from '../connections/connection.js';
import { GatewayMetrics } from '../metrics/gateway.metrics.js';
import { MemoryOfflineMessageDriver } from '../offline/memory-offline-message.driver.js';
import { OfflineMessageService } from '../offline/offline-message.service.js';
import { MessageRouter } from './message-router.service.js';

class StubSocket implements SocketLike {
  readyState = 1;
  bufferedAmount = 0;
  readonly frames: string[] = [];
  closedWith?: { code?: number; reason?: string };
  send(data: string, cb?: (error?: Error) => void): void {
    if (this.readyState !== 1) return cb?.(new Error('not open'));
    this.frames.push(data);
    queueMicrotask(() => cb?.());
  }
  ping(): void {}
  close(code?: number, reason?: string): void {
    this.closedWith = { code, reason };
    this.readyState = 2;
  }
  terminate(): void {
    this.readyState = 3;
  }
}

const tick = () => new Promise((r) => setImmediate(r));

function setup(sessionPolicy: SessionPolicy = 'multi') {
  const config = { ws: { sessionPolicy }, offline: { ttlSeconds: 60 } } as unknown as AppConfig;
  const metrics = new GatewayMetrics();
  const offline = new OfflineMessageService(new MemoryOfflineMessageDriver(), metrics, config);
  const pool = new ConnectionPool(config);
  const router = new MessageRouter(pool, offline, metrics);
  const connect = (user: string) => {
    const socket = new StubSocket();
    const connection = new Connection(socket, user, 'text', (m) => m.body);
    router.attach(connection);
    return { socket, connection };
  };
  return { offline, pool, router, connect };
}

describe('MessageRouter', () => {
  let t: ReturnType<typeof setup>;
  beforeEach(async () => {
    t = setup();
    await t.offline.onModuleInit();
  });

  it('delivers to a live recipient and answers delivered', async () => {
    const bob = t.connect('bob');
    await tick();
    expect(t.router.send('alice', 'bob', 'hi').status).toBe('delivered');
    expect(bob.socket.frames).toEqual(['hi']);
  });

  it('queues durably for an absent recipient and drains in order on connect', async () => {
    const r1 = t.router.send('alice', 'bob', 'one');
    t.router.send('alice', 'bob', 'two');
    expect(r1.status).toBe('queued');
    await (r1 as { durable: Promise<void> }).durable;
    expect(await t.offline.count('bob')).toBe(2);
    const bob = t.connect('bob');
    t.router.send('alice', 'bob', 'live');
    await tick();
    await tick();
    expect(bob.socket.frames).toEqual(['one', 'two', 'live']);
    await t.offline.flushed();
    expect(await t.offline.count('bob')).toBe(0);
  });

  it('returns what a draining connection never wrote to the inbox when it closes', async () => {
    t.router.send('alice', 'bob', 'queued');
    await t.offline.flushed();
    const bob = t.connect('bob'); // drain starts, waits for the store
    t.router.send('alice', 'bob', 'live while draining');
    bob.socket.readyState = 3;
    t.router.detach(bob.connection);
    await tick();
    await t.offline.flushed();
    const left = await t.offline.peek('bob', 10);
    expect(left.map((m) => m.body)).toEqual(['queued', 'live while draining']);
  });

  it('under replace, closes the old connection with 4001 and hands its backlog to the inbox', async () => {
    t = setup('replace');
    await t.offline.onModuleInit();
    const old = t.connect('bob');
    t.router.send('alice', 'bob', 'for the old one'); // waits behind the old drain
    const fresh = t.connect('bob');
    expect(old.socket.closedWith).toEqual({ code: 4001, reason: 'replaced' });
    await tick();
    await tick();
    expect(fresh.socket.frames).toEqual(['for the old one']);
    expect(old.socket.frames).toEqual([]);
  });
});
