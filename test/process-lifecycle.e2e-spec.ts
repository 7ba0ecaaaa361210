import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ChildGateway, freePort } from './support/child-gateway.js';
import { TestClient } from './support/ws-client.js';

/** How a gateway's first and last lines read to whoever runs it. */
describe('the gateway process, starting and stopping', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0)) await step();
  });

  it('refuses a port already in use with one line, and no "started" line before it', async () => {
    const port = await freePort();
    const holder: Server = createServer();
    await new Promise<void>((resolve) => holder.listen(port, '127.0.0.1', resolve));
    cleanup.push(() => new Promise((resolve) => holder.close(resolve)));

    const g = ChildGateway.spawn({ OFFLINE_STORE: 'memory' }, port);
    expect((await g.exited).code).toBe(1);
    expect(g.output.trim().split('\n')).toEqual([
      `im-gateway failed to start: PORT=${port} is already in use on 127.0.0.1 (another im-gateway, or another program): stop it, or set PORT to a free port`,
    ]);
  });

  it('outside production, stops at once on SIGINT with clients connected, and says so last', async () => {
    const g = await ChildGateway.start({ OFFLINE_STORE: 'memory', NO_COLOR: '1' });
    cleanup.push(() => g.stop('SIGKILL'));
    const alice = await TestClient.open(g.wsUrl('alice'));
    const signalled = Date.now();
    const exit = await g.stop('SIGINT', 3_000);
    expect(exit.code).toBe(0);
    expect(Date.now() - signalled).toBeLessThan(2_000);
    expect(g.output).toContain('draining for 0 ms');
    expect(g.output.trim().split('\n').at(-1)).toMatch(/\[Main\] im-gateway stopped$/);
    expect((await alice.closed()).code).toBe(1001);
  });

  it('in production, its last JSON log line says it stopped', async () => {
    const g = await ChildGateway.start({
      NODE_ENV: 'production',
      OFFLINE_STORE: 'memory',
      ALLOWED_ORIGINS: '*',
      ALLOW_INSECURE_AUTH: 'true',
      AUTH_MODE: 'query',
      SHUTDOWN_DRAIN_MS: '200',
    });
    cleanup.push(() => g.stop('SIGKILL'));
    expect((await g.stop('SIGTERM')).code).toBe(0);
    const last = JSON.parse(g.output.trim().split('\n').at(-1)!) as { message: string; context: string };
    expect(last).toMatchObject({ message: 'im-gateway stopped', context: 'Main' });
  });
});
