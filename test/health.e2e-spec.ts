import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ReadinessState } from '../src/health/readiness.state.js';
import { OfflineMessageService } from '../src/offline/offline-message.service.js';
import { startGateway, type TestGateway } from './support/gateway.js';

describe('health probes', () => {
  let gw: TestGateway;
  const get = (path: string) => fetch(`${gw.httpUrl}${path}`);

  beforeEach(async () => {
    gw = await startGateway();
  });
  afterEach(async () => {
    await gw.close();
  });

  it('GET /health answers 200 {"status":"ok"} once the store is open', async () => {
    const res = await get('/health');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('GET /health/live answers 200 while the process runs', async () => {
    const res = await get('/health/live');
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toContain('no-store');
    expect(await res.json()).toMatchObject({ status: 'ok', details: { process: { status: 'up' } } });
  });

  it('GET /health/ready answers 200 with the store open and no drain', async () => {
    const res = await get('/health/ready');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      status: 'ok',
      details: { offline_store: { status: 'up' }, accepting: { status: 'up' } },
    });
  });

  it('GET /health/ready turns 503 once draining, while live and /health stay 200', async () => {
    const readiness = gw.app.get(ReadinessState);
    expect(readiness.draining).toBe(false);
    readiness.markDraining();
    readiness.markDraining();
    expect(readiness.draining).toBe(true);

    const ready = await get('/health/ready');
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({
      status: 'error',
      error: { accepting: { status: 'down', reason: 'draining before shutdown' } },
      details: { offline_store: { status: 'up' } },
    });
    expect((await get('/health/live')).status).toBe(200);
    expect((await get('/health')).status).toBe(200);
  });

  it('GET /health/ready and /health answer 503 once the offline store is closed', async () => {
    await gw.app.get(OfflineMessageService).onApplicationShutdown();
    const ready = await get('/health/ready');
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({
      status: 'error',
      error: { offline_store: { status: 'down', reason: 'offline store is not open' } },
    });
    expect((await get('/health')).status).toBe(503);
    expect((await get('/health/live')).status).toBe(200);
  });
});
