import { beforeEach, describe, expect, it, vi } from 'vitest';
import { LocalNodeBus } from '../cluster/node-bus.js';
import { LocalPresence, Presence } from '../cluster/presence.js';
import type { AppConfig, SessionPolicy } from '../config/app-config.js';
import { ConnectionPool } from '../connections/connection-pool.service.js';
import { Connection, type SocketLike, type WireProtocol } from '../connections/connection.js';
import { jsonOutbound } from '../gateway/json.codec.js';
import { plainTextOutbound } from '../gateway/plain-text.codec.js';
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
    if (this.readyState !== 1) {
      cb?.(new Error('not open'));
      return;
    }
    this.frames.push(data);
    if (cb) queueMicrotask(() => cb());
  }
  ping(): void {}
  pong(): void {}
  pause(): void {}
  resume(): void {}
  close(code?: number, reason?: string): void {
    this.closedWith = { code, reason };
    this.readyState = 2;
  }
  terminate(): void {
    this.readyState = 3;
  }
  /** Parsed JSON frames of one event. */
  events(event: string): Array<Record<string, unknown>> {
    return this.frames
      .map((f) => JSON.parse(f))
      .filter((f) => f.event === event)
      .map((f) => f.data);
  }
}

const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

function setup(sessionPolicy: SessionPolicy = 'multi', window = 256, presence: Presence = new LocalPresence('node-1')) {
  const config = {
    ws: { sessionPolicy },
    offline: { ttlSeconds: 60 },
    limits: { inboxMaxMessages: 1_000 },
  } as unknown as AppConfig;
  const metrics = new GatewayMetrics();
  const offline = new OfflineMessageService(new MemoryOfflineMessageDriver(), metrics, config);
  const pool = new ConnectionPool(config);
  const router = new MessageRouter(pool, offline, metrics, presence, new LocalNodeBus());
  const connect = (user: string, protocol: WireProtocol = 'text') => {
    const socket = new StubSocket();
    const codec = protocol === 'json' ? jsonOutbound : plainTextOutbound;
    const connection = new Connection(
      socket,
      user,
      protocol,
      codec,
      {
        window,
        windowBytes: 1 << 29,
        slowConsumerBytes: 1 << 30,
        backlogMessages: 8 * window,
        ratePerSecond: 1e9,
        rateBurst: 1e9,
      },
      router,
    );
    router.attach(connection);
    return { socket, connection };
  };
  const close = (c: { socket: StubSocket; connection: Connection }) => {
    c.socket.readyState = 3;
    router.detach(c.connection);
  };
  return { offline, pool, router, connect, close };
}

/** Presence as in a cluster whose other nodes hold nobody; its reads fail while `failing` is set. */
class OneNodeOfCluster extends Presence {
  readonly shared = true;
  readonly nodeId = 'node-1';
  failing = false;
  private readonly users = new Map<string, number>();

  async add(user: string, connections: number): Promise<void> {
    this.users.set(user, connections);
  }

  async remove(user: string): Promise<void> {
    this.users.delete(user);
  }

  async connectionsOf(user: string): Promise<Record<string, number>> {
    if (this.failing) throw new Error('Redis is away');
    const connections = this.users.get(user);
    return connections === undefined ? {} : { [this.nodeId]: connections };
  }
}

describe('MessageRouter', () => {
  let t: ReturnType<typeof setup>;
  beforeEach(async () => {
    t = setup();
    await t.offline.onModuleInit();
  });

  it('writes to a live plain-text recipient at once', async () => {
    const bob = t.connect('bob');
    await settle();
    t.router.sendText('alice', 'bob', 'hi', Date.now());
    expect(bob.socket.frames).toEqual(['hi']);
  });

  it('queues durably for an absent recipient and drains in order before live messages', async () => {
    t.router.sendText('alice', 'bob', 'one', Date.now());
    t.router.sendText('alice', 'bob', 'two', Date.now());
    await t.offline.flushed();
    expect(await t.offline.count('bob')).toBe(2);
    const bob = t.connect('bob');
    t.router.sendText('alice', 'bob', 'live', Date.now());
    await settle();
    expect(bob.socket.frames).toEqual(['one', 'two', 'live']);
    await t.offline.flushed();
    expect(await t.offline.count('bob')).toBe(0);
  });

  it('returns what a draining connection never wrote to the inbox when it closes', async () => {
    t.router.sendText('alice', 'bob', 'queued', Date.now());
    await t.offline.flushed();
    const bob = t.connect('bob'); // the drain waits for the store
    t.router.sendText('alice', 'bob', 'live while draining', Date.now());
    t.close(bob);
    await settle();
    const left = await t.offline.peek('bob', 10);
    expect(left.map((m) => m.body)).toEqual(['queued', 'live while draining']);
  });

  it('under replace, closes the old connection with 4001 and hands what it held to the new one', async () => {
    t = setup('replace');
    await t.offline.onModuleInit();
    t.router.sendText('alice', 'bob', 'queued first', Date.now());
    await t.offline.flushed();
    const old = t.connect('bob'); // its drain waits for the store
    t.router.sendText('alice', 'bob', 'for the old one', Date.now()); // waits behind the old drain
    const fresh = t.connect('bob');
    expect(old.socket.closedWith).toEqual({ code: 4001, reason: 'replaced' });
    await settle();
    expect(fresh.socket.frames).toEqual(['queued first', 'for the old one']);
    expect(old.socket.frames).toEqual([]);
  });

  describe('JSON recipients and senders', () => {
    it('answers sent delivered only after the recipient acks', async () => {
      const alice = t.connect('alice', 'json');
      const bob = t.connect('bob', 'json');
      await settle();
      await t.router.sendTracked('alice', 'c1', 'bob', 'hello', alice.connection);
      const [message] = bob.socket.events('message');
      expect(message).toMatchObject({ from: 'alice', to: 'bob', body: 'hello' });
      await settle();
      expect(alice.socket.events('sent')).toEqual([]);
      t.router.acknowledge(bob.connection, [message!.id as string]);
      await settle();
      expect(alice.socket.events('sent')).toEqual([{ id: 'c1', messageId: message!.id, status: 'delivered' }]);
    });

    it('puts an unacked message back in the inbox when the recipient closes, and tells the sender queued', async () => {
      const alice = t.connect('alice', 'json');
      const bob = t.connect('bob', 'json');
      await settle();
      await t.router.sendTracked('alice', 'c1', 'bob', 'unacked', alice.connection);
      t.close(bob);
      await settle();
      expect((await t.offline.peek('bob', 10)).map((m) => m.body)).toEqual(['unacked']);
      expect(alice.socket.events('sent')).toMatchObject([{ id: 'c1', status: 'queued' }]);
      const again = t.connect('bob', 'json');
      await settle();
      const [message] = again.socket.events('message');
      t.router.acknowledge(again.connection, [message!.id as string]);
      await settle();
      expect(alice.socket.events('receipt')).toEqual([{ messageId: message!.id, status: 'delivered' }]);
      expect(await t.offline.count('bob')).toBe(0);
    });

    it('never creates a second message for a resend of the same client id', async () => {
      const alice = t.connect('alice', 'json');
      await settle();
      await t.router.sendTracked('alice', 'c1', 'bob', 'once', alice.connection);
      await settle();
      await t.router.sendTracked('alice', 'c1', 'bob', 'once', alice.connection);
      await settle();
      expect(await t.offline.count('bob')).toBe(1);
      const sent = alice.socket.events('sent');
      expect(sent).toHaveLength(2);
      expect(sent[0]).toEqual(sent[1]);
      expect(sent[0]!.status).toBe('queued');
    });

    it('keeps a sender’s order when a send must ask the store and the ones after it need not', async () => {
      const alice = t.connect('alice', 'json');
      const bob = t.connect('bob', 'json');
      await settle();
      // The store's filter cannot rule out c1 (a false positive): its send waits for a read.
      vi.spyOn(t.offline, 'mayHaveSent').mockImplementation((_sender, clientId) => clientId === 'c1');
      const sends = ['c1', 'c2', 'c3'].map((id) => t.router.sendTracked('alice', id, 'bob', id, alice.connection));
      expect(sends[0]).toBeInstanceOf(Promise);
      await Promise.all(sends);
      await settle();
      expect(bob.socket.events('message').map((m) => m.body)).toEqual(['c1', 'c2', 'c3']);
    });

    it('keeps the order when a send waiting behind another must ask the store too', async () => {
      const alice = t.connect('alice', 'json');
      const bob = t.connect('bob', 'json');
      await settle();
      vi.spyOn(t.offline, 'mayHaveSent').mockImplementation(
        (_sender, clientId) => clientId === 'c1' || clientId === 'c3',
      );
      const ids = ['c1', 'c2', 'c3', 'c4', 'c5'];
      const sends = ids.map((id) => t.router.sendTracked('alice', id, 'bob', id, alice.connection));
      // Carol's sends never wait behind Alice's.
      expect(t.router.sendTracked('carol', 'k1', 'bob', 'k1', alice.connection)).toBeUndefined();
      await Promise.all(sends);
      await settle();
      expect(bob.socket.events('message').map((m) => m.body)).toEqual(['k1', ...ids]);
    });

    it('routes a new client id in the same turn when the store can rule out a record', async () => {
      const alice = t.connect('alice', 'json');
      const bob = t.connect('bob', 'json');
      await settle();
      expect(t.router.sendTracked('alice', 'fresh', 'bob', 'now', alice.connection)).toBeUndefined();
      expect(bob.socket.events('message').map((m) => m.body)).toEqual(['now']);
    });

    it('lets a resend made before the inbox write commits share its answer, with no second copy', async () => {
      const alice = t.connect('alice', 'json');
      await settle();
      await t.router.sendTracked('alice', 'c1', 'bob', 'once', alice.connection); // queued, not committed
      const bob = t.connect('bob', 'json'); // online before the commit
      await t.router.sendTracked('alice', 'c1', 'bob', 'once', alice.connection); // the resend
      await settle();
      expect(bob.socket.events('message')).toHaveLength(1);
      expect(alice.socket.events('sent')).toEqual([
        expect.objectContaining({ id: 'c1', status: 'queued' }),
        expect.objectContaining({ id: 'c1', status: 'queued' }),
      ]);
    });

    it('keeps at most the window unacked and sends the rest as acks arrive', async () => {
      t = setup('multi', 3);
      await t.offline.onModuleInit();
      for (let i = 0; i < 10; i++) t.router.sendText('alice', 'bob', `m${i}`, Date.now());
      await t.offline.flushed();
      const bob = t.connect('bob', 'json');
      await settle();
      let messages = bob.socket.events('message');
      expect(messages.map((m) => m.body)).toEqual(['m0', 'm1', 'm2']);
      t.router.acknowledge(bob.connection, [messages[0]!.id as string]);
      await settle();
      // Refills wait until the window is half empty, so the inbox is read in pages.
      expect(bob.socket.events('message')).toHaveLength(3);
      t.router.acknowledge(bob.connection, [messages[1]!.id as string]);
      await settle();
      messages = bob.socket.events('message');
      expect(messages.map((m) => m.body)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
      expect(bob.connection.unacked.size).toBe(3);
    });
  });
  describe('in a cluster', () => {
    let presence: OneNodeOfCluster;
    let alice: ReturnType<typeof t.connect>;
    let bob: ReturnType<typeof t.connect>;
    /** A JSON send of alice's, numbered as the gateway numbers it on arrival. */
    const send = (id: string, body: string) =>
      t.router.sendTracked('alice', id, 'bob', body, alice.connection, alice.connection.nextSendOrder());
    beforeEach(async () => {
      presence = new OneNodeOfCluster();
      t = setup('multi', 256, presence);
      await t.offline.onModuleInit();
      alice = t.connect('alice', 'json');
      bob = t.connect('bob', 'json');
      await settle();
    });

    it('refuses a send whose outcome is found after an earlier send of its connection was refused, so it cannot overtake it', async () => {
      // c1's presence read fails; Redis is back for c2's, which is answered after c1's refusal.
      presence.failing = true;
      const first = send('c1', 'one');
      presence.failing = false;
      const second = send('c2', 'two');
      await Promise.all([first, second]);
      await settle();
      expect(alice.socket.events('error').map((e) => [e.id, e.code])).toEqual([
        ['c1', 'STORE_UNAVAILABLE'],
        ['c2', 'STORE_UNAVAILABLE'],
      ]);
      expect(bob.socket.events('message')).toEqual([]);
      // The client resends from c1, which takes the fence down (the gateway asks it first).
      expect(alice.connection.fenceRefusal('c1', Date.now())).toBeUndefined();
      await send('c1', 'one');
      await send('c2', 'two');
      await settle();
      expect(bob.socket.events('message').map((m) => m.body)).toEqual(['one', 'two']);
    });

    it('lets an earlier send in flight go on when a later one is refused', async () => {
      const first = send('c1', 'one');
      // c2 is refused at the door (say RATE_LIMITED) while c1's presence is being read.
      alice.connection.refuse('c2', 'RATE_LIMITED', 'too many frames, slow down');
      await first;
      await settle();
      expect(bob.socket.events('message').map((m) => m.body)).toEqual(['one']);
    });

    it('drops a send whose connection closed before its outcome was found: its client sends it again elsewhere', async () => {
      const sending = send('c1', 'late');
      alice.socket.readyState = 2;
      await sending;
      await settle();
      expect(bob.socket.events('message')).toEqual([]);
      expect(await t.offline.count('bob')).toBe(0);
    });
  });

  it('in a cluster, writes once, at its place in the inbox, a stored message also handed to a connection still draining', async () => {
    t = setup('multi', 1, new OneNodeOfCluster());
    await t.offline.onModuleInit();
    t.router.sendText('alice', 'bob', 'one', Date.now());
    await settle();
    // `two` finds nobody and is stored; bob connects before the presence read that follows the
    // write, which hands it to his connection too, while his drain (a window of one) waits for
    // the ack of `one`. The drain then meets it in the inbox as well.
    t.router.sendText('alice', 'bob', 'two', Date.now());
    for (let i = 0; i < 10; i++) await Promise.resolve();
    const bob = t.connect('bob', 'json');
    await settle();
    expect(bob.socket.events('message').map((m) => m.body)).toEqual(['one']);
    for (const body of ['one', 'two']) {
      const message = bob.socket.events('message').find((m) => m.body === body);
      if (message !== undefined) t.router.acknowledge(bob.connection, [message.id as string]);
      await settle();
    }
    expect(bob.socket.events('message').map((m) => m.body)).toEqual(['one', 'two']);
  });
});
