import { mkdirSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it, onTestFailed } from 'vitest';
import { ChildGateway } from './support/child-gateway.js';
import { ClusterTraffic } from './support/cluster-traffic.js';
import { eventually } from './support/eventually.js';
import { PrivateRedis } from './support/private-redis.js';
import { deleteKeysUnder, keysUnder, redisAvailable, TEST_REDIS_URL, testKeyPrefix } from './support/redis-test.js';
import { Redis } from 'ioredis';
import { RoundRobinProxy } from './support/round-robin-proxy.js';
import { FAST_RECONNECT, SdkUser } from './support/sdk-user.js';
import { sleep } from './support/ws-client.js';

const ADMIN_TOKEN = 'cluster-faults-admin-token';
const available = await redisAvailable();
/** Short, so that a dead node's presence is seen gone within the test. */
const PRESENCE_TTL_SECONDS = 3;

interface Cluster {
  readonly nodes: ChildGateway[];
  readonly proxy: RoundRobinProxy;
  readonly env: (id: string) => Record<string, string>;
}

async function startCluster(redisUrl: string, prefix: string, extra: Record<string, string> = {}): Promise<Cluster> {
  const env = (id: string) => ({
    CLUSTER: 'redis',
    OFFLINE_STORE: 'redis',
    REDIS_URL: redisUrl,
    REDIS_KEY_PREFIX: prefix,
    NODE_ID: id,
    ADMIN_TOKEN,
    PRESENCE_TTL_SECONDS: String(PRESENCE_TTL_SECONDS),
    ...extra,
  });
  const nodes = await Promise.all(['node-a', 'node-b', 'node-c'].map((id) => ChildGateway.start(env(id))));
  const proxy = await RoundRobinProxy.start(nodes.map((n) => n.port));
  return { nodes, proxy, env };
}

async function presenceNodes(node: ChildGateway, user: string): Promise<string[]> {
  const res = await fetch(`http://127.0.0.1:${node.port}/admin/users/${user}`, {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  return ((await res.json()) as { nodes: string[] }).nodes;
}

/** A failed test's node logs, under test-results/ (not committed), for the CI artifacts and a look after. */
function saveNodeLogs(test: string, nodes: readonly ChildGateway[]): void {
  const dir = `test-results/cluster-faults/${test.slice(0, 60).replace(/[^\w-]+/g, '-')}`;
  mkdirSync(dir, { recursive: true });
  for (const [i, node] of nodes.entries()) writeFileSync(`${dir}/node-${i}.log`, node.output);
  console.log(`[cluster faults] node logs of the failed test: ${dir}/`);
}

const readyStatus = async (node: ChildGateway) =>
  (await fetch(`http://127.0.0.1:${node.port}/health/ready`).catch(() => undefined))?.status;

describe.skipIf(!available)('cluster faults: nothing acknowledged is lost', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  });

  /** A cluster stopped after the test; on the shared Redis, its keys are deleted too. */
  const clusterOn = async (redisUrl: string, prefix: string, extra: Record<string, string> = {}) => {
    const cluster = await startCluster(redisUrl, prefix, extra);
    onTestFailed(({ task }) => saveNodeLogs(task.name, cluster.nodes));
    cleanups.push(async () => {
      await cluster.proxy.stop();
      await Promise.all(cluster.nodes.map((n) => n.stop('SIGKILL')));
      if (redisUrl === TEST_REDIS_URL) await deleteKeysUnder(TEST_REDIS_URL, prefix);
    });
    return cluster;
  };
  /** A Redis of the test's own (AOF, appendfsync always), stopped after the test. */
  const privateRedis = async (): Promise<PrivateRedis> => {
    const redis = await PrivateRedis.start();
    cleanups.push(() => redis.stop());
    return redis;
  };
  /** SDK users through the cluster's balancer, closed after the test. */
  const trafficThrough = (cluster: Cluster, users: number, tag: string) => {
    const traffic = new ClusterTraffic((u) => cluster.proxy.wsUrl(u), users, tag);
    cleanups.push(async () => traffic.close());
    return traffic;
  };

  it('loses nothing when one node is killed with kill -9 under SDK traffic, and its presence is gone within the TTL', async () => {
    const prefix = testKeyPrefix('kill-node');
    const cluster = await clusterOn(TEST_REDIS_URL, prefix);
    const traffic = trafficThrough(cluster, 6, 'k');
    await traffic.connect();
    const [a, b] = cluster.nodes as [ChildGateway, ChildGateway, ChildGateway];
    const onB = (
      await Promise.all(
        traffic.users.map(async (u) => ((await presenceNodes(a, u.user)).includes('node-b') ? u.user : '')),
      )
    ).filter(Boolean);
    expect(onB.length).toBeGreaterThan(0);

    traffic.start(40, 25);
    await traffic.underway(30);
    await b.stop('SIGKILL');
    const killedAt = Date.now();
    await traffic.settled(45_000);
    const result = await traffic.check(20_000);
    console.log(
      `[cluster kill -9 node] ${traffic.sends.length} sends, ${result.acknowledged} acknowledged, ${result.lost} lost, ${result.duplicated} duplicated at the SDK`,
    );
    expect(result).toMatchObject({ lost: 0, duplicated: 0 });
    expect(result.acknowledged).toBe(traffic.sends.length);

    await eventually(
      'the dead node gone from presence',
      async () => {
        for (const user of onB) expect(await presenceNodes(a, user)).not.toContain('node-b');
      },
      (PRESENCE_TTL_SECONDS + 2) * 1000,
    );
    expect(Date.now() - killedAt).toBeLessThan((PRESENCE_TTL_SECONDS + 2) * 1000 + 30_000);
  });

  it('loses nothing when Redis (AOF, appendfsync always) is killed with kill -9 under traffic and restarted; the nodes recover without a restart', async () => {
    const redis = await privateRedis();
    const prefix = testKeyPrefix('kill-redis');
    const cluster = await clusterOn(redis.url, prefix);
    const traffic = trafficThrough(cluster, 6, 'r');
    await traffic.connect();

    traffic.start(40, 25);
    await traffic.underway(30);
    await redis.kill();
    // A sleep, not a poll: Redis stays down for a while under traffic.
    await sleep(1_000);
    await redis.start();
    await traffic.settled(45_000);
    const result = await traffic.check(20_000);
    console.log(
      `[cluster kill -9 redis] ${traffic.sends.length} sends, ${result.acknowledged} acknowledged, ${result.lost} lost, ${result.duplicated} duplicated at the SDK`,
    );
    expect(result).toMatchObject({ lost: 0, duplicated: 0 });
    for (const node of cluster.nodes)
      await eventually('ready again', async () => expect(await readyStatus(node)).toBe(200));
    expect(cluster.nodes.every((n) => n.process.exitCode === null)).toBe(true);
    // AOF with appendfsync always and noeviction keep every promise: nothing to warn about.
    for (const node of cluster.nodes) expect(node.output).not.toMatch(/Redis: (appendonly|appendfsync|maxmemory)/);
  });

  it('loses nothing sent while a node’s bus subscription was dropped: its clients reconnect and drain, in order', async () => {
    const redis = await privateRedis();
    const prefix = testKeyPrefix('bus-drop');
    const cluster = await clusterOn(redis.url, prefix);
    const traffic = trafficThrough(cluster, 6, 'p');
    await traffic.connect();
    const admin = new Redis(redis.url);
    cleanups.push(async () => admin.disconnect());

    traffic.start(40, 25);
    await traffic.underway(30);
    // Every node's subscription is cut at once; commands still work.
    await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
    await traffic.settled(45_000);
    const result = await traffic.check(20_000);
    console.log(
      `[cluster bus dropped] ${traffic.sends.length} sends, ${result.acknowledged} acknowledged, ${result.lost} lost, ${result.duplicated} duplicated at the SDK`,
    );
    expect(result).toMatchObject({ acknowledged: traffic.sends.length, lost: 0, duplicated: 0 });
  });

  it('answers 503 on /health/ready while Redis is unreachable for 10 s, keeps the SDK outboxes, and recovers by itself', async () => {
    const redis = await privateRedis();
    const prefix = testKeyPrefix('redis-down');
    const cluster = await clusterOn(redis.url, prefix);
    const traffic = trafficThrough(cluster, 4, 'd');
    await traffic.connect();

    await redis.kill();
    const downSince = Date.now();
    for (const node of cluster.nodes)
      await eventually('ready turns 503', async () => expect(await readyStatus(node)).toBe(503));
    traffic.start(10, 100);
    await sleep(Math.max(0, 10_000 - (Date.now() - downSince)));
    expect(traffic.acknowledged()).toEqual([]);
    await redis.start();
    for (const node of cluster.nodes)
      await eventually('ready again', async () => expect(await readyStatus(node)).toBe(200), 10_000);
    await traffic.settled(30_000);
    const result = await traffic.check(20_000);
    console.log(
      `[cluster redis down 10 s] ${traffic.sends.length} sends, ${result.acknowledged} acknowledged after recovery, ${result.lost} lost, ${result.duplicated} duplicated`,
    );
    expect(result).toMatchObject({ acknowledged: traffic.sends.length, lost: 0, duplicated: 0 });
  });

  it('loses and duplicates nothing at the SDK through a rolling restart of all three nodes', async () => {
    const prefix = testKeyPrefix('rolling');
    const cluster = await clusterOn(TEST_REDIS_URL, prefix, { SHUTDOWN_DRAIN_MS: '300' });
    const traffic = trafficThrough(cluster, 6, 'rr');
    await traffic.connect();

    traffic.start(60, 50);
    for (let i = 0; i < cluster.nodes.length; i++) {
      const old = cluster.nodes[i]!;
      await old.stop('SIGTERM');
      cluster.nodes[i] = await ChildGateway.start(cluster.env(`node-${'abc'[i]}-2`), old.port);
    }
    await traffic.settled(45_000);
    const result = await traffic.check(20_000);
    console.log(
      `[cluster rolling restart] ${traffic.sends.length} sends, ${result.acknowledged} acknowledged, ${result.lost} lost, ${result.duplicated} duplicated at the SDK`,
    );
    expect(result).toMatchObject({ acknowledged: traffic.sends.length, lost: 0, duplicated: 0 });
  });

  it('leaves Redis as it found it once the TTLs pass: inbox, idempotency and presence keys all expire, and a second run costs no more memory than the first', async () => {
    const redis = await privateRedis();
    const client = new Redis(redis.url);
    cleanups.push(async () => client.disconnect());
    const usedMemory = async () => Number(/used_memory:(\d+)/.exec(await client.info('memory'))![1]);
    const prefix = testKeyPrefix('expiry');
    const baselineKeys = await client.dbsize();

    /** Live traffic across nodes and 200 messages for users who never come back, then the TTLs. */
    const run = async (round: number) => {
      const cluster = await startCluster(redis.url, prefix, { OFFLINE_TTL_SECONDS: '2' });
      const traffic = new ClusterTraffic((u) => cluster.proxy.wsUrl(u), 4, `x${round}`);
      const sender = new SdkUser(cluster.proxy.wsUrl(`gone${round}`), `gone${round}`, { reconnect: FAST_RECONNECT });
      try {
        await traffic.connect();
        traffic.start(25, 10);
        await traffic.settled(20_000);
        await sender.connect();
        const answers = Array.from({ length: 200 }, (_, i) => sender.send(`never-back-${i % 20}`, `waits ${i}`));
        expect(new Set(await Promise.all(answers))).toEqual(new Set(['queued']));
      } finally {
        traffic.close();
        sender.close();
        await cluster.proxy.stop();
      }
      const during = (await keysUnder(client, prefix)).length;
      await Promise.all(cluster.nodes.map((n) => n.stop('SIGTERM')));
      await eventually(
        'every key of the run expired',
        async () => expect((await keysUnder(client, prefix)).filter((k) => !k.endsWith('maxseq'))).toEqual([]),
        (2 + PRESENCE_TTL_SECONDS + 12) * 1000,
      );
      return { during, after: await client.dbsize(), memory: await usedMemory() };
    };

    const first = await run(1);
    const second = await run(2);
    console.log(
      `[cluster expiry] keys: ${baselineKeys} before, ${first.during} during, ${first.after} after run 1, ${second.during} during, ${second.after} after run 2; used_memory after run 1 ${first.memory}, after run 2 ${second.memory}`,
    );
    expect(first.during).toBeGreaterThan(20);
    // `maxseq` stays: new messages are numbered above it after a restart.
    expect(first.after).toBe(baselineKeys + 1);
    expect(second.after).toBe(baselineKeys + 1);
    expect(second.memory - first.memory).toBeLessThan(64 * 1024);
  });
});
