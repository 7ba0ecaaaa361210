import { once } from 'node:events';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ChildGateway, canRunAs } from './support/child-gateway.js';
import { eventually } from './support/eventually.js';
import { tempDir } from './support/gateway.js';
import { JsonClient } from './support/json-client.js';
import { metric } from './support/metric.js';
import { TestClient, withTimeout } from './support/ws-client.js';

describe('the gateway process', () => {
  const dirs: Array<{ remove(): void }> = [];
  const running: ChildGateway[] = [];
  afterEach(async () => {
    for (const g of running.splice(0)) await g.stop('SIGKILL');
    for (const d of dirs.splice(0)) d.remove();
  });
  const start = async (env: Record<string, string>) => {
    const g = await ChildGateway.start(env);
    running.push(g);
    return g;
  };

  it.each([
    ['PORT', 'eighty', 'an integer from 0 to 65535'],
    ['OFFLINE_STORE', 'postgres', 'one of sqlite, memory'],
    ['SESSION_POLICY', 'single', 'one of multi, replace'],
    ['MAX_PAYLOAD_BYTES', '-1', 'an integer'],
    ['HEARTBEAT_INTERVAL_MS', '10', 'an integer from 100'],
    ['OFFLINE_TTL_SECONDS', '0', 'an integer from 1'],
    ['WS_PATH', 'ws', 'a path starting with /'],
  ])('refuses to boot on %s=%s with exit code 1 and one line naming it', async (name, value, accepts) => {
    const g = ChildGateway.spawn({ OFFLINE_STORE: 'memory', [name]: value });
    const exit = await g.exited;
    expect(exit.code).toBe(1);
    const lines = g.output.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(name);
    expect(lines[0]).toContain(accepts);
  });

  it('reports every bad variable at once, one line each, and never prints a secret', async () => {
    const g = ChildGateway.spawn({
      OFFLINE_STORE: 'memory',
      PORT: 'eighty',
      ADMIN_TOKEN: 'short-secret-1',
      WS_PATH: 'ws',
    });
    expect((await g.exited).code).toBe(1);
    const lines = g.output.trim().split('\n');
    expect(lines).toEqual([
      'Invalid PORT="eighty": expected an integer from 0 to 65535',
      'Invalid WS_PATH="ws": expected a path starting with / (no spaces, ? or #)',
      'Invalid ADMIN_TOKEN (value not shown): expected a token of at least 16 characters',
    ]);
    expect(g.output).not.toContain('short-secret-1');
  });

  it('says at startup who may connect, where the inbox is and where to connect', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const g = await start({ SQLITE_PATH: `${dir.path}/inbox.db` });
    await withTimeout(
      (async () => {
        while (!g.output.includes('connect to ws://')) await new Promise((r) => setTimeout(r, 20));
      })(),
      'the startup lines',
    );
    expect(g.output).toMatch(/WARN \[Main\] Auth: AUTH_MODE=query, the user is whatever \?user= says/);
    expect(g.output).toContain(`Inbox: sqlite at ${dir.path}/inbox.db`);
    expect(g.output).toContain(`Chat page: http://127.0.0.1:${g.port}/ (WEB_CLIENT=true)`);
    expect(g.output).toContain(`connect to ws://127.0.0.1:${g.port}/ws`);
  });

  it('refuses to boot when SQLITE_PATH cannot be opened, naming the variable, the path and why', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const g = ChildGateway.spawn({ SQLITE_PATH: dir.path });
    expect((await g.exited).code).toBe(1);
    expect(g.output.trim().split('\n').at(-1)).toBe(
      `im-gateway failed to start: Cannot open SQLITE_PATH="${dir.path}" (${dir.path}): it is a directory, not a file`,
    );
  });

  // Root can write anywhere: the refusal needs the gateway to run as another user, which only
  // root can arrange, and only where that user can read the checkout.
  const nobody = { uid: 65_534, gid: 65_534 };
  it.skipIf(!canRunAs(nobody))(
    'refuses to boot when SQLITE_PATH is not writable for its user, saying who must own what (as uid 65534)',
    async () => {
      const dir = tempDir();
      dirs.push(dir);
      const path = join(dir.path, 'inbox.db');
      const g = ChildGateway.spawn({ SQLITE_PATH: path }, 0, nobody);
      expect((await g.exited).code).toBe(1);
      expect(g.output.trim().split('\n').at(-1)).toBe(
        `im-gateway failed to start: Cannot open SQLITE_PATH="${path}" (${path}): permission denied; the process (uid 65534) must be able to write the file and its directory (the image runs as uid 1000: chown the volume or bind mount to 1000)`,
      );
    },
  );

  it('on SIGTERM closes every connection with 1001 and exits 0 within 10 s', async () => {
    const g = await start({ OFFLINE_STORE: 'memory', SHUTDOWN_DRAIN_MS: '0' });
    const clients = await Promise.all(['a', 'b', 'c'].map((u) => TestClient.open(g.wsUrl(u))));
    const started = Date.now();
    const exit = await g.stop('SIGTERM');
    expect(exit.code).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    for (const c of clients) expect((await c.closed()).code).toBe(1001);
  });

  it('on SIGTERM exits 0 within 10 s even while an HTTP request is half sent, and an idle keep-alive connection is open', async () => {
    const g = await start({ OFFLINE_STORE: 'memory', SHUTDOWN_DRAIN_MS: '0' });
    const client = await TestClient.open(g.wsUrl('a'));
    const connect = async () => {
      const socket = createConnection({ host: '127.0.0.1', port: g.port });
      await once(socket, 'connect');
      socket.on('error', () => undefined);
      return socket;
    };
    // One connection answered and kept alive, one in the middle of its headers when the signal
    // comes: the server must not wait for either (the headers deadline is 10 s, past the
    // shutdown deadline, so waiting would end in the watchdog's SIGKILL).
    const idle = await connect();
    idle.write(`GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    await once(idle, 'data');
    const busy = await connect();
    busy.write(`GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n`);
    const started = Date.now();
    const exit = await g.stop('SIGTERM');
    expect(exit).toEqual({ code: 0, signal: null });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect((await client.closed()).code).toBe(1001);
    idle.destroy();
    busy.destroy();
  });

  it('drains on SIGTERM: ready turns 503 while connections are served, then 1001, unacked back to the inbox, exit 0', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const env = { SQLITE_PATH: `${dir.path}/offline.db`, SHUTDOWN_DRAIN_MS: '1500' };
    const g = await start(env);
    const ready = () => fetch(`http://127.0.0.1:${g.port}/health/ready`).then((r) => r.status);
    expect(await ready()).toBe(200);
    const alice = await TestClient.open(g.wsUrl('alice'));
    const bob = await JsonClient.open(g.wsUrl('bob'));
    const started = Date.now();
    g.process.kill('SIGTERM');
    await eventually('ready answering 503 during the drain', async () => expect(await ready()).toBe(503));
    alice.send('bob|during the drain, never acked');
    expect((await bob.next('message')).body).toBe('during the drain, never acked');
    expect((await bob.raw.closed()).code).toBe(1001);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_400);
    expect((await g.exited).code).toBe(0);
    const again = await start(env);
    const back = await JsonClient.open(again.wsUrl('bob'));
    expect((await back.next('message')).body).toBe('during the drain, never acked');
    await back.close();
  });

  it('LOG_FORMAT=json writes one JSON object per line, with connects and disconnects but no bodies or tokens', async () => {
    const g = await start({ OFFLINE_STORE: 'memory', LOG_FORMAT: 'json', SHUTDOWN_DRAIN_MS: '0' });
    const alice = await TestClient.open(g.wsUrl('alice'));
    const bob = await TestClient.open(g.wsUrl('bob'));
    alice.send('bob|secret body 12345');
    await bob.next();
    await alice.close();
    await bob.close();
    await TestClient.open(`ws://127.0.0.1:${g.port}/ws?user=a%7Cb&token=secret-token-67890`).catch(() => undefined);
    await eventually("the log lines of bob's disconnect and the refused upgrade", () => {
      expect(g.output).toMatch(/Disconnected: connection \d+ of user bob/);
      expect(g.output).toMatch(/Upgrade refused \(400/);
    });
    await g.stop('SIGTERM');
    const lines = g.output.trim().split('\n');
    const entries = lines.map((line) => JSON.parse(line) as { level: string; message: string; context?: string });
    const messages = entries.map((e) => e.message).join('\n');
    expect(messages).toMatch(/Connected: connection \d+ of user alice/);
    expect(messages).toMatch(/Disconnected: connection \d+ of user bob \(code 1005, [\d.]+ s\)/);
    expect(messages).toMatch(/Upgrade refused \(400/);
    expect(g.output).not.toContain('secret body');
    expect(g.output).not.toContain('secret-token');
  });

  it('keeps queued messages through kill -9 and a restart on the same SQLite file', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const env = { SQLITE_PATH: `${dir.path}/offline.db` };
    const first = await start(env);
    const alice = await TestClient.open(first.wsUrl('alice'));
    for (let i = 0; i < 100; i++) alice.send(`bob|m${i}`);
    // A plain-text sender gets no confirmation; the metric counts the messages once their batch commits.
    await eventually('100 messages committed to the inbox', async () =>
      expect(await metric(`http://127.0.0.1:${first.port}`, 'im_gateway_inbox_writes_total')).toBe(100),
    );
    expect((await first.stop('SIGKILL')).signal).toBe('SIGKILL');
    const second = await start(env);
    const bob = await TestClient.open(second.wsUrl('bob'));
    expect(await bob.waitFor(100)).toEqual(Array.from({ length: 100 }, (_, i) => `m${i}`));
    await bob.close();
  });

  it('closes bad frames with 1003, 1007 and 1009 without error logs or harm to others', async () => {
    const g = await start({ OFFLINE_STORE: 'memory', MAX_PAYLOAD_BYTES: '1024' });
    const alice = await TestClient.open(g.wsUrl('alice'));
    const bob = await TestClient.open(g.wsUrl('bob'));

    const binary = await TestClient.open(g.wsUrl('mallory'));
    binary.send(Buffer.from([1, 2, 3]), { binary: true });
    expect((await binary.closed()).code).toBe(1003);

    const badUtf8 = await TestClient.open(g.wsUrl('mallory'));
    badUtf8.send(Buffer.from([0x62, 0x6f, 0x62, 0x7c, 0xff, 0xfe]), { binary: false });
    expect((await badUtf8.closed()).code).toBe(1007);

    const tooBig = await TestClient.open(g.wsUrl('mallory'));
    tooBig.send(`bob|${'x'.repeat(2_000)}`);
    expect((await tooBig.closed()).code).toBe(1009);

    alice.send('bob|unharmed');
    expect(await bob.next()).toBe('unharmed');
    expect(g.output).not.toMatch(/ERROR/);
    await alice.close();
    await bob.close();
  });
});
