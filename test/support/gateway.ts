import 'reflect-metadata';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test, type TestingModuleBuilder } from '@nestjs/testing';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appWiring } from '../../src/app.wiring.js';
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

export interface GatewayOptions {
  /**
   * Replaces providers before the modules are built, to inject a fault:
   * `(builder) => builder.overrideProvider(OfflineMessageStore).useValue(store)`.
   */
  readonly override?: (builder: TestingModuleBuilder) => TestingModuleBuilder;
}

/**
 * Starts the gateway in this process on an ephemeral loopback port, built by Nest's testing
 * module from the same wiring as `createApp`.
 */
export async function startGateway(
  env: Record<string, string> = {},
  options: GatewayOptions = {},
): Promise<TestGateway> {
  const config = loadConfig({
    LOG_LEVEL: 'warn',
    OFFLINE_STORE: 'memory',
    ...UNLIMITED_RATE,
    ...env,
    PORT: '0',
    HOST: '127.0.0.1',
  });
  const wiring = appWiring(config);
  const builder = Test.createTestingModule({ imports: [wiring.module] }).setLogger(wiring.options.logger);
  const moduleRef = await (options.override?.(builder) ?? builder).compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(wiring.httpAdapter, wiring.options);
  wiring.configure(app);
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
