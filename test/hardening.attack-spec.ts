import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { attackFor, clientFrame, floodRaw, rssMiB, watchDuring } from './support/attack-probe.js';
import { ChildGateway } from './support/child-gateway.js';
import { tempDir } from './support/gateway.js';
import { JsonClient } from './support/json-client.js';
import { TestClient, withTimeout } from './support/ws-client.js';

/**
 * Hostile clients against the built gateway as a separate process, so its memory is its own:
 * each test runs one attack with a real client and checks what an operator and the other users
 * see — RSS, `/health/live`, bystanders' delivery — and how the attacker is closed.
 */
describe('hardening: one client cannot grow memory or stall the event loop', () => {
  let child: ChildGateway | undefined;
  let dir: ReturnType<typeof tempDir> | undefined;
  const open: Array<{ close(): Promise<void> }> = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close().catch(() => undefined)));
    await child?.stop('SIGKILL');
    child = undefined;
    dir?.remove();
    dir = undefined;
  });

  const start = async (env: Record<string, string> = {}) => {
    dir = tempDir();
    child = await ChildGateway.start({ SQLITE_PATH: `${dir.path}/offline.db`, LOG_LEVEL: 'warn', ...env });
    return { http: `http://127.0.0.1:${child.port}`, pid: child.process.pid! };
  };
  const text = async (user: string) => {
    const c = await TestClient.open(child!.wsUrl(user));
    open.push(c);
    return c;
  };
  const json = async (user: string) => {
    const c = await JsonClient.open(child!.wsUrl(user));
    open.push(c);
    return c;
  };
  /** Bystanders chat live, and a message for a user who is offline reaches them on connect. */
  const bystandersStillServed = async (tag: string) => {
    const alice = await text(`alice-${tag}`);
    const bob = await text(`bob-${tag}`);
    alice.send(`bob-${tag}|live ${tag}`);
    expect(await bob.next()).toBe(`live ${tag}`);
    alice.send(`carol-${tag}|offline ${tag}`);
    // The inbox write commits in the next group commit; carol may connect before or after it.
    const carol = await text(`carol-${tag}`);
    expect(await carol.next()).toBe(`offline ${tag}`);
  };

  /** `frame` repeated to about 64 KB, the most one TCP read hands the gateway. */
  const repeated = (frame: Buffer) =>
    Buffer.concat(Array.from({ length: Math.ceil(65_536 / frame.length) }, () => frame));

  it('pings from clients that never read are rate limited, throttled and closed with 1008', async () => {
    const { http, pid } = await start({ RATE_LIMIT_CLOSE_AFTER_SECONDS: '3' });
    const baseline = rssMiB(pid);
    const attackers = await Promise.all([0, 1, 2, 3].map((i) => text(`mallory-${i}`)));
    for (const a of attackers) a.socket.pause(); // never reads a pong
    const pings = repeated(clientFrame(0x9, Buffer.alloc(125, 7)));
    let stop = false;
    // Closed with 1008 after 3 s over the limit, and cut 3 s later if it still does not read:
    // the attack stops in between, so the attackers can read their close frame.
    const attack = attackFor(4_500);
    const floods = attackers.map((a) => floodRaw(a.socket, pings, () => stop));
    const figures = watchDuring(http, pid, attack);
    await bystandersStillServed('ping');
    await attack;
    stop = true;
    await Promise.all(floods);
    const { maxRssMiB, maxLiveMs } = await figures;
    console.info(
      `ping flood: RSS +${(maxRssMiB - baseline).toFixed(0)} MiB, slowest /health/live ${maxLiveMs.toFixed(0)} ms`,
    );
    // Unbounded, the pongs grew RSS by about 55 MB a second.
    expect(maxRssMiB - baseline).toBeLessThan(60);
    expect(maxLiveMs).toBeLessThan(100);
    for (const a of attackers) a.socket.resume();
    const closed = await Promise.all(attackers.map((a) => a.closed(10_000)));
    expect(closed.map((c) => c.code)).toEqual([1008, 1008, 1008, 1008]);
  }, 40_000);

  it('empty pings at the speed of the link do not stall the event loop, and the flooder is closed with 1008', async () => {
    const { http, pid } = await start({ RATE_LIMIT_CLOSE_AFTER_SECONDS: '3' });
    const attackers = await Promise.all([0, 1].map((i) => text(`mallory-${i}`)));
    const pings = repeated(clientFrame(0x9));
    let stop = false;
    const attack = attackFor(6_000);
    const floods = attackers.map((a) => floodRaw(a.socket, pings, () => stop));
    const figures = watchDuring(http, pid, attack);
    await bystandersStillServed('empty-ping');
    await attack;
    stop = true;
    await Promise.all(floods);
    const { maxLiveMs } = await figures;
    console.info(`empty-ping flood: slowest /health/live ${maxLiveMs.toFixed(0)} ms`);
    expect(maxLiveMs).toBeLessThan(100);
    for (const a of attackers) expect((await a.closed(10_000)).code).toBe(1008);
  }, 40_000);

  it('a JSON client that reads but never acks is closed with 1013; its messages return to the inbox within its quota', async () => {
    const { http, pid } = await start({ RATE_LIMIT_PER_SECOND: '1000000', RATE_LIMIT_BURST: '1000000' });
    const baseline = rssMiB(pid);
    const mallory = await json('mallory');
    const senders = await Promise.all(Array.from({ length: 10 }, (_, i) => json(`sender-${i}`)));
    const body = 'x'.repeat(64_000);
    const perSender = 60; // 600 × 64 KB = 38 MB, more than twice INBOX_MAX_BYTES (16 MiB)
    const attack = (async () => {
      // Ten senders at 50 messages a second each.
      for (let n = 0; n < perSender; n++) {
        for (const [i, s] of senders.entries()) s.send(`m-${i}-${n}`, 'mallory', body);
        await attackFor(20);
      }
      return Promise.all(
        senders.map(async (s) => {
          await withTimeout(
            (async () => {
              while (s.of('sent').length + s.of('error').length < perSender)
                await s.raw.waitFor(s.raw.received.length + 1, 20_000);
            })(),
            'an answer to every send',
            30_000,
          );
        }),
      );
    })();
    const figures = watchDuring(http, pid, attack);
    await attack;
    const { maxRssMiB, maxLiveMs, p95LiveMs } = await figures;
    console.info(
      `never-acking reader: RSS +${(maxRssMiB - baseline).toFixed(0)} MiB, /health/live p95 ${p95LiveMs.toFixed(0)} ms, slowest ${maxLiveMs.toFixed(0)} ms`,
    );
    expect((await mallory.raw.closed(10_000)).code).toBe(1013);
    // What is in flight is bounded (a byte window, a backlog, the inbox quota); the rest is the
    // heap's slack: +71 to +97 MiB on Node 20, +139 MiB on Node 24, against 2.1 GB a minute unbounded.
    expect(maxRssMiB - baseline).toBeLessThan(200);
    // 32 MB a second of real messages is work, not an attack on the loop: a collection of the
    // message bodies may hold one probe back, so the bound is on the 95th percentile.
    expect(p95LiveMs).toBeLessThan(100);
    expect(maxLiveMs).toBeLessThan(500);

    // Every send got exactly one answer: queued (in the inbox) or INBOX_FULL; none was delivered.
    const answers = senders.flatMap((s) => [...s.of('sent'), ...s.of('error')]);
    expect(answers).toHaveLength(10 * perSender);
    const queued = senders.flatMap((s) => s.of('sent'));
    expect(new Set(queued.map((a) => a.status))).toEqual(new Set(['queued']));
    const refused = senders.flatMap((s) => s.of('error'));
    expect(refused.length).toBeGreaterThan(0);
    for (const error of refused) expect(error.code).toBe('INBOX_FULL');
    // The inbox holds exactly what was answered `queued`, and no more than INBOX_MAX_BYTES.
    const again = (await json('mallory')).ackAll();
    const delivered = await again.all('message', queued.length);
    expect(delivered.map((m) => m.id).sort()).toEqual(queued.map((q) => q.messageId).sort());
    expect(delivered.length * 64_000).toBeLessThanOrEqual(16 * 1024 * 1024);
    await bystandersStillServed('no-ack');
  }, 60_000);

  it('a flood of acks that settle nothing is rate limited and closed with 1008; a bystander round trip stays fast', async () => {
    const { http, pid } = await start({ RATE_LIMIT_CLOSE_AFTER_SECONDS: '3' });
    const mallory = await json('mallory');
    const ids = Array.from({ length: 1_024 }, (_, i) => `forged-id-${i}-${'z'.repeat(40)}`);
    const acks = repeated(clientFrame(0x1, Buffer.from(JSON.stringify({ event: 'ack', data: { ids } })))); // about 60 KB each
    let stop = false;
    const flood = floodRaw(mallory.raw.socket, acks, () => stop);
    const attack = attackFor(5_000);
    const figures = watchDuring(http, pid, attack);
    const alice = await json('alice');
    const bob = (await json('bob')).ackAll();
    let slowest = 0;
    for (let i = 0; i < 20; i++) {
      const started = performance.now();
      alice.send(`rtt-${i}`, 'bob', 'ping');
      await alice.next('sent');
      slowest = Math.max(slowest, performance.now() - started);
    }
    expect(bob.of('message')).toHaveLength(20);
    await attack;
    stop = true;
    await flood;
    const { maxLiveMs } = await figures;
    console.info(
      `ack flood: slowest bystander round trip ${slowest.toFixed(0)} ms, slowest /health/live ${maxLiveMs.toFixed(0)} ms`,
    );
    expect(slowest).toBeLessThan(100);
    expect(maxLiveMs).toBeLessThan(100);
    expect((await mallory.raw.closed(10_000)).code).toBe(1008);
  }, 40_000);

  it('a full inbox costs the next message to it no scan of the inbox', async () => {
    // 3,000 messages of 64 KB (192 MB) wait for bob, written straight into the file.
    dir = tempDir();
    const path = `${dir.path}/offline.db`;
    const db = new Database(path);
    db.exec(`CREATE TABLE inbox (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, recipient TEXT NOT NULL,
      sender TEXT NOT NULL, client_id TEXT, body TEXT NOT NULL, ts INTEGER NOT NULL, expires_at INTEGER NOT NULL);
      CREATE INDEX inbox_by_recipient ON inbox (recipient, seq);`);
    const insert = db.prepare('INSERT INTO inbox VALUES (?, ?, ?, ?, NULL, ?, ?, ?)');
    const body = 'x'.repeat(64_000);
    const now = Date.now();
    db.transaction(() => {
      for (let i = 1; i <= 3_000; i++) insert.run(i, `big-${i}`, 'bob', 'alice', body, now, now + 3_600_000);
    })();
    db.close();
    // Without fsync per commit, what is left of a send's time is the gateway's own work. A scan
    // of the inbox costs every restart's first send; a stall of a busy machine costs one try. So
    // the gateway restarts until one try's slowest send is under the bound, three tries at most.
    const slowestPerTry: number[] = [];
    for (let attempt = 0; attempt < 3 && !slowestPerTry.some((ms) => ms < 100); attempt++) {
      await child?.stop();
      child = await ChildGateway.start({
        SQLITE_PATH: path,
        SQLITE_SYNCHRONOUS: 'normal',
        LOG_LEVEL: 'warn',
        INBOX_MAX_BYTES: String(1 << 30),
      });
      const alice = await json('alice');
      let slowest = 0;
      for (let i = 0; i < 5; i++) {
        const started = performance.now();
        alice.send(`next-${attempt}-${i}`, 'bob', 'one more');
        expect(await alice.next('sent')).toMatchObject({ id: `next-${attempt}-${i}`, status: 'queued' });
        slowest = Math.max(slowest, performance.now() - started);
      }
      await alice.close();
      slowestPerTry.push(slowest);
    }
    console.info(`full inbox: slowest send to it ${slowestPerTry.map((ms) => ms.toFixed(0)).join(', ')} ms`);
    // Counting the inbox on the main thread took about 190 ms here (520 ms for 10,000 × 65 KB).
    expect(Math.min(...slowestPerTry)).toBeLessThan(100);
  }, 60_000);
});
