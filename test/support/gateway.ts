import 'reflect-metadata';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../../src/app.factory.js';
import { loadConfig } from '../../src/config/load-config.js';

export interface TestGateway {
  readonly app: NestFastifyApplication;
  readonly port: number;
  readonly httpUrl: string;
  /** `ws://127.0.0.1:PORT/ws?user=<user>` */
  wsUrl(user: string, extra?: string): string;
  close(): Promise<void>;
}

/** A fresh temporary directory, removed by the returned function. */
export function tempDir(): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), 'im-gateway-test-'));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * Burst tests send thousands of frames at once; the rate limit has its own tests and is out of
 * the way everywhere else unless a test sets it.
 */
const UNLIMITED_RATE = { RATE_LIMIT_PER_SECOND: '1000000000', RATE_LIMIT_BURST: '1000000000' };

/** Starts the gateway in this process on an ephemeral loopback port. */
export async function startGateway(env: Record<string, string> = {}): Promise<TestGateway> {
  const config = loadConfig({
    LOG_LEVEL: 'warn',
    OFFLINE_STORE: 'memory',
    ...UNLIMITED_RATE,
    ...env,
    PORT: '0',
    HOST: '127.0.0.1',
  });
  const app = await createApp(config);
  await app.listen(0, '127.0.0.1');
  const port = (app.getHttpServer().address() as AddressInfo).port;
  return {
    app,
    port,
    httpUrl: `http://127.0.0.1:${port}`,
    wsUrl: (user, extra = '') => `ws://127.0.0.1:${port}${config.ws.path}?user=${encodeURIComponent(user)}${extra}`,
    close: () => app.close(),
  };
}
