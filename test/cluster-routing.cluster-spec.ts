import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RedisOfflineMessageDriver } from '../src/offline/redis-offline-message.driver.js';
import { messageIdFor } from '../src/routing/message-id.js';
import { ChildGateway } from './support/child-gateway.js';
import { eventually } from './support/eventually.js';
import { JsonClient } from './support/json-client.js';
import { sample } from './support/metric.js';
import { deleteKeysUnder, redisAvailable, TEST_REDIS_URL, testKeyPrefix } from './support/redis-test.js';
import { expectSilence, TestClient, UpgradeRefused } from './support/ws-client.js';

const ADMIN_TOKEN = 'cluster-suite-admin-token';
const available = await redisAvailable();

/** A node of a cluster on the test Redis, under the suite's own key prefix. */
function nodeEnv(prefix: string, id: string, extra: Record<string, string>): Record<string, string> {
  return {
    CLUSTER: 'redis',
    OFFLINE_STORE: 'redis',
    REDIS_URL: TEST_REDIS_URL,
    REDIS_KEY_PREFIX: prefix,
    NODE_ID: id,
    ...extra,
  };
}

/** Three gateway processes on one Redis: any user reaches any other, whichever node each is on. */
describe.skipIf(!available)('cluster: three nodes on one Redis', () => {
  const prefix = testKeyPrefix('cluster');
  const nodes: ChildGateway[] = [];
  const open: Array<{ close(): Promise<void> }> = [];
  let a: ChildGateway;
  let b: ChildGateway;
  let c: ChildGateway;

  beforeAll(async () => {
    const env = (id: string) => nodeEnv(prefix, id, { ADMIN_TOKEN, MAX_CONNECTIONS_PER_USER: '2' });
    [a, b, c] = await Promise.all(['node-a', 'node-b', 'node-c'].map((id) => ChildGateway.start(env(id))));
    nodes.push(a!, b!, c!);
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((client) => client.close()));
  });
  afterAll(async () => {
    await Promise.all(nodes.map((node) => node.stop()));
    await deleteKeysUnder(TEST_REDIS_URL, prefix);
  });

  const text = async (node: ChildGateway, user: string) => {
    const client = await TestClient.open(node.wsUrl(user));
    open.push(client);
    return client;
  };
  const json = async (node: ChildGateway, user: string) => {
    const client = await JsonClient.open(`${node.wsUrl(user)}`);
    open.push(client);
    return client;
  };
  const admin = async (node: ChildGateway, method: string, path: string) => {
    const res = await fetch(`http://127.0.0.1:${node.port}${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    return { status: res.status, body: await res.json() };
  };
  /** Waits until presence shows `user` on `node`: a connection is registered just after its upgrade. */
  const registered = (user: string, ...nodeIds: string[]) =>
    eventually(`${user} on ${nodeIds.join(', ')}`, async () => {
      const { body } = await admin(a, 'GET', `/admin/users/${user}`);
      expect([...body.nodes].sort()).toEqual(nodeIds.sort());
    });

  it('carries the seed protocol from a user on one node to a user on another', async () => {
    const alice = await text(a, 'alice-t');
    const bob = await text(b, 'bob-t');
    await registered('bob-t', 'node-b');
    alice.send('bob-t|hello from node a');
    alice.send('bob-t|in order');
    expect(await bob.waitFor(2)).toEqual(['hello from node a', 'in order']);
    await expectSilence(alice);
  });

  it('carries the JSON protocol across nodes: the recipient acks on its node, the sender hears delivered on its own', async () => {
    const alice = await json(a, 'alice-j');
    const bob = await json(c, 'bob-j');
    await registered('bob-j', 'node-c');
    alice.send('m1', 'bob-j', 'across');
    const message = await bob.next('message');
    expect(message).toMatchObject({ from: 'alice-j', body: 'across' });
    bob.ack(message.id as string);
    expect(await alice.next('sent')).toEqual({ id: 'm1', messageId: message.id, status: 'delivered' });
  });

  it('keeps messages for a user offline on node A and delivers the backlog in order on node C, with receipts on the sender’s node', async () => {
    const first = await json(a, 'bob-o');
    await registered('bob-o', 'node-a');
    await first.close();
    await registered('bob-o');
    const alice = await json(b, 'alice-o');
    for (let i = 1; i <= 5; i++) alice.send(`o${i}`, 'bob-o', `backlog ${i}`);
    const sent = await alice.all('sent', 5);
    expect(sent.map((s) => s.status)).toEqual(['queued', 'queued', 'queued', 'queued', 'queued']);
    const bob = (await json(c, 'bob-o')).ackAll();
    const messages = await bob.all('message', 5);
    expect(messages.map((m) => m.body)).toEqual(['backlog 1', 'backlog 2', 'backlog 3', 'backlog 4', 'backlog 5']);
    const receipts = await alice.all('receipt', 5);
    expect(receipts.map((r) => r.messageId).sort()).toEqual(sent.map((s) => s.messageId).sort());
  });

  it('gives one user on two nodes every message on both, in order', async () => {
    const onA = await json(a, 'bob-m');
    const onC = await text(c, 'bob-m');
    onA.ackAll();
    await registered('bob-m', 'node-a', 'node-c');
    const alice = await json(b, 'alice-m');
    for (let i = 1; i <= 5; i++) alice.send(`d${i}`, 'bob-m', `both ${i}`);
    const expected = [1, 2, 3, 4, 5].map((i) => `both ${i}`);
    expect((await onA.all('message', 5)).map((m) => m.body)).toEqual(expected);
    expect(await onC.waitFor(5)).toEqual(expected);
    expect((await alice.all('sent', 5)).map((s) => s.status)).toEqual(Array(5).fill('delivered'));
  });

  it('answers presence with every node from any node, and a kick from one node closes connections on the others', async () => {
    const onA = await text(a, 'carol');
    const onB = await text(b, 'carol');
    await registered('carol', 'node-a', 'node-b');
    const presence = await admin(c, 'GET', '/admin/users/carol');
    expect(presence.body).toMatchObject({ user: 'carol', online: true, connections: [] });
    expect(presence.body.nodes.sort()).toEqual(['node-a', 'node-b']);
    const kicked = await admin(c, 'DELETE', '/admin/users/carol/connections');
    expect(kicked.body).toEqual({ closed: 0, otherNodes: 2 });
    expect(await onA.closed()).toEqual({ code: 4003, reason: 'kicked' });
    expect(await onB.closed()).toEqual({ code: 4003, reason: 'kicked' });
    await registered('carol');
  });

  it('counts a user’s connections on every node against MAX_CONNECTIONS_PER_USER', async () => {
    await text(a, 'dave');
    await text(b, 'dave');
    await registered('dave', 'node-a', 'node-b');
    const third = await TestClient.open(c.wsUrl('dave')).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(third).toBeInstanceOf(UpgradeRefused);
    expect((third as UpgradeRefused).status).toBe(429);
  });

  it('sends from the admin API of any node to a user on another', async () => {
    const bob = await text(c, 'bob-admin');
    await registered('bob-admin', 'node-c');
    const res = await fetch(`http://127.0.0.1:${a.port}/admin/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ to: 'bob-admin', body: 'from the operator' }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'delivered' });
    expect(await bob.next()).toBe('from the operator');
  });

  it('delivers a message its sender was told is queued but that never reached the online recipient, when the sender resends it, ahead of what it sends next', async () => {
    // The state a node leaves when it dies between storing a message and sending it on, behind a
    // long inbox of such messages from others.
    const bob = (await json(b, 'bob-stranded')).ackAll();
    await registered('bob-stranded', 'node-b');
    const store = new RedisOfflineMessageDriver(TEST_REDIS_URL, prefix);
    await store.open();
    const now = Date.now();
    const stored = (from: string, clientId: string, seq: number, body: string) => ({
      id: messageIdFor(from, clientId),
      seq,
      from,
      to: 'bob-stranded',
      body,
      ts: now,
      clientId,
      expiresAt: now + 60_000,
    });
    const others = Array.from({ length: 490 }, (_, i) =>
      stored('carol-s', `o${i}`, (now - 1) * 1024 + i, 'x'.repeat(2000)),
    );
    await store.write({
      append: [...others, stored('alice-s', 'c1', now * 1024, 'stored, never sent on')],
      remove: [],
      sent: [{ sender: 'alice-s', clientId: 'c1', status: 'queued', expiresAt: now + 60_000 }],
    });
    await store.close();
    await expectSilence(bob.raw, 300);
    const alice = await json(a, 'alice-s');
    alice.send('c1', 'bob-stranded', 'stored, never sent on');
    alice.send('c2', 'bob-stranded', 'sent next');
    alice.send('c3', 'bob-stranded', 'and then');
    expect(await alice.next('sent')).toMatchObject({ id: 'c1', status: 'queued' });
    const fromAlice = async () => (await bob.all('message', 1)).filter((m) => m.from === 'alice-s').map((m) => m.body);
    await eventually('alice’s three messages at bob', async () => expect(await fromAlice()).toHaveLength(3));
    expect(await fromAlice()).toEqual(['stored, never sent on', 'sent next', 'and then']);
    await eventually('a receipt for the stored one', async () =>
      expect(alice.of('receipt').map((r) => r.messageId)).toContain(messageIdFor('alice-s', 'c1')),
    );
  });

  it('warns at boot, in one line, that this Redis (no AOF) would lose acknowledged messages on a restart', () => {
    const warnings = a.output.split('\n').filter((line) => line.includes('Redis: appendonly is off'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/WARN.*set appendonly yes and appendfsync always/);
  });

  it('is ready with the cluster up, and counts messages routed to other nodes', async () => {
    const ready = await fetch(`http://127.0.0.1:${a.port}/health/ready`);
    expect(ready.status).toBe(200);
    expect((await ready.json()).info).toMatchObject({ cluster: { status: 'up' } });
    const sender = await text(a, 'alice-metrics');
    const recipient = await text(b, 'bob-metrics');
    await registered('bob-metrics', 'node-b');
    sender.send('bob-metrics|counted');
    expect(await recipient.next()).toBe('counted');
    const metrics = await (await fetch(`http://127.0.0.1:${a.port}/metrics`)).text();
    expect(sample(metrics, 'im_gateway_messages_routed_total{path="remote"}')).toBeGreaterThan(0);
    // A probe goes round the bus every second.
    await eventually('a bus round trip measured', async () => {
      const text = await (await fetch(`http://127.0.0.1:${a.port}/metrics`)).text();
      expect(sample(text, 'im_gateway_bus_round_trip_seconds_count')).toBeGreaterThan(0);
    });
  });
});

describe.skipIf(!available)('cluster: SESSION_POLICY=replace across nodes', () => {
  const prefix = testKeyPrefix('cluster-replace');
  const nodes: ChildGateway[] = [];

  beforeAll(async () => {
    const env = (id: string) => nodeEnv(prefix, id, { SESSION_POLICY: 'replace' });
    nodes.push(...(await Promise.all(['node-x', 'node-y'].map((id) => ChildGateway.start(env(id))))));
  });
  afterAll(async () => {
    await Promise.all(nodes.map((node) => node.stop()));
    await deleteKeysUnder(TEST_REDIS_URL, prefix);
  });

  it('closes the older connection on the other node with 4001, and what it held reaches the new one', async () => {
    const [x, y] = nodes as [ChildGateway, ChildGateway];
    const old = await JsonClient.open(x.wsUrl('erin'));
    const alice = await JsonClient.open(y.wsUrl('alice-r'));
    alice.send('r1', 'erin', 'held by the old connection');
    expect(await old.next('message')).toMatchObject({ body: 'held by the old connection' });
    const fresh = (await JsonClient.open(y.wsUrl('erin'))).ackAll();
    expect(await old.raw.closed()).toEqual({ code: 4001, reason: 'replaced' });
    expect(await fresh.next('message')).toMatchObject({ body: 'held by the old connection' });
    // Delivered on the new connection; the sender hears so directly, or hears `queued` (the old
    // connection let it go first) and then a receipt.
    const sent = await alice.next('sent');
    expect(sent).toMatchObject({ id: 'r1' });
    if (sent.status === 'queued') expect(await alice.next('receipt')).toMatchObject({ messageId: sent.messageId });
    else expect(sent.status).toBe('delivered');
    await Promise.all([fresh.close(), alice.close()]);
  });
});
