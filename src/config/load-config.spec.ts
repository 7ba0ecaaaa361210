import { describe, expect, it } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from './load-config.js';

const { publicKey: PUBLIC_KEY_PEM, privateKey: PRIVATE_KEY_PEM } = generateKeyPairSync('ec', {
  namedCurve: 'P-256',
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
});

describe('loadConfig: limits that fit together', () => {
  it('derives SLOW_CONSUMER_BYTES from MAX_PAYLOAD_BYTES when it is not set', () => {
    expect(loadConfig({}).limits.slowConsumerBytes).toBe(8 * 1024 * 1024);
    expect(loadConfig({ MAX_PAYLOAD_BYTES: String(16 * 1024 * 1024) }).limits.slowConsumerBytes).toBe(64 * 1024 * 1024);
    expect(loadConfig({ SLOW_CONSUMER_BYTES: '1048576' }).limits.slowConsumerBytes).toBe(1_048_576);
  });

  it('refuses a SLOW_CONSUMER_BYTES that cannot hold a window of the largest messages, naming both variables', () => {
    const load = () => loadConfig({ MAX_PAYLOAD_BYTES: '1048576', SLOW_CONSUMER_BYTES: '2097152' });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(/^Invalid SLOW_CONSUMER_BYTES=2097152: expected at least 4 × MAX_PAYLOAD_BYTES \(4194304\)/);
  });

  it('refuses an INBOX_MAX_BYTES smaller than one message of the largest size', () => {
    expect(() => loadConfig({ INBOX_MAX_BYTES: '60000' })).toThrow(
      /^Invalid INBOX_MAX_BYTES=60000: expected at least MAX_PAYLOAD_BYTES \(65536\)/,
    );
    expect(loadConfig({ INBOX_MAX_BYTES: '65536' }).limits.inboxMaxBytes).toBe(65_536);
  });

  it('takes INBOX_CACHE_MB in mebibytes, 0 turning the inbox cache off, and names it when it is not one', () => {
    expect(loadConfig({}).offline.inboxCacheBytes).toBe(64 * 1024 * 1024);
    expect(loadConfig({ INBOX_CACHE_MB: '0' }).offline.inboxCacheBytes).toBe(0);
    expect(loadConfig({ INBOX_CACHE_MB: '256' }).offline.inboxCacheBytes).toBe(256 * 1024 * 1024);
    expect(() => loadConfig({ INBOX_CACHE_MB: '-1' })).toThrow(
      /^Invalid INBOX_CACHE_MB="-1": expected an integer from 0 to 65536/,
    );
    expect(() => loadConfig({ INBOX_CACHE_MB: '64MB' })).toThrow(/^Invalid INBOX_CACHE_MB="64MB"/);
  });
});

describe('loadConfig: defaults that depend on NODE_ENV', () => {
  const production = { NODE_ENV: 'production', ALLOWED_ORIGINS: '*', AUTH_MODE: 'query', ALLOW_INSECURE_AUTH: 'true' };

  it('drains for 5 s in production, where a load balancer must see /health/ready turn 503, and not at all elsewhere', () => {
    expect(loadConfig(production).shutdown.drainMs).toBe(5_000);
    expect(loadConfig({}).shutdown.drainMs).toBe(0);
    expect(loadConfig({ NODE_ENV: 'development' }).shutdown.drainMs).toBe(0);
  });

  it('takes SHUTDOWN_DRAIN_MS as set, in either', () => {
    expect(loadConfig({ ...production, SHUTDOWN_DRAIN_MS: '0' }).shutdown.drainMs).toBe(0);
    expect(loadConfig({ SHUTDOWN_DRAIN_MS: '2500' }).shutdown.drainMs).toBe(2_500);
  });
});

describe('loadConfig: errors that help without leaking secrets', () => {
  const problemsOf = (env: Record<string, string>): readonly string[] => {
    try {
      loadConfig(env);
    } catch (error) {
      if (error instanceof ConfigError) return error.problems;
      throw error;
    }
    throw new Error('expected a ConfigError');
  };

  it.each([
    ['JWT_SECRET', { AUTH_MODE: 'jwt', JWT_SECRET: 'too-short-but-secret-0123456789' }],
    ['ADMIN_TOKEN', { ADMIN_TOKEN: 'short-secret-1' }],
    ['JWT_PUBLIC_KEY', { AUTH_MODE: 'jwt', JWT_PUBLIC_KEY: '   ' }],
    ['JWT_PUBLIC_KEY', { AUTH_MODE: 'jwt', JWT_PUBLIC_KEY: 'not-a-key-but-maybe-a-password' }],
    ['JWT_PUBLIC_KEY', { AUTH_MODE: 'jwt', JWT_PUBLIC_KEY: PRIVATE_KEY_PEM }],
  ])('names %s and its rule, never its value', (name, env) => {
    const value = (env as Record<string, string>)[name]!;
    const problems = problemsOf(env);
    expect(problems.some((p) => p.startsWith(`Invalid ${name} (value not shown): expected `))).toBe(true);
    for (const problem of problems) expect(problem).not.toContain(value.trim() === '' ? '"   "' : value);
  });

  it('takes a PEM public key, with real newlines or \\n, and refuses a garbled one at boot', () => {
    expect(loadConfig({ AUTH_MODE: 'jwt', JWT_PUBLIC_KEY: PUBLIC_KEY_PEM }).auth.jwt?.key).toEqual({
      kind: 'publicKey',
      pem: PUBLIC_KEY_PEM.trim(),
    });
    expect(
      loadConfig({ AUTH_MODE: 'jwt', JWT_PUBLIC_KEY: PUBLIC_KEY_PEM.trim().replace(/\n/g, '\\n') }).auth.jwt?.key,
    ).toEqual({
      kind: 'publicKey',
      pem: PUBLIC_KEY_PEM.trim(),
    });
    // Its last line of base64 lost, as a copy and paste can.
    const garbled = PUBLIC_KEY_PEM.replace(/\n[^-\n]+\n-----END/, '\n-----END');
    expect(problemsOf({ AUTH_MODE: 'jwt', JWT_PUBLIC_KEY: garbled })).toEqual([
      'Invalid JWT_PUBLIC_KEY (value not shown): expected a PEM public key (-----BEGIN PUBLIC KEY-----, RSA or EC), with newlines written as they are or as \\n',
    ]);
  });

  it('reads JWT_JWKS_FILE at boot, and says what is wrong with it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'im-gateway-jwks-'));
    try {
      const file = (name: string, text: string): string => {
        writeFileSync(join(dir, name), text);
        return join(dir, name);
      };
      const good = file('good.json', JSON.stringify({ keys: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y' }] }));
      expect(loadConfig({ AUTH_MODE: 'jwt', JWT_JWKS_FILE: good }).auth.jwt?.key).toEqual({
        kind: 'jwksFile',
        path: good,
      });
      const cases: Array<[string, string]> = [
        [join(dir, 'missing.json'), `no such file (${join(dir, 'missing.json')})`],
        [dir, 'it is a directory, not a file'],
        [file('bad.json', '{"keys": ['), 'expected a JWK set in JSON ({"keys": [...]}), and the file is not JSON'],
        [file('empty.json', '{"keys": []}'), 'expected a JWK set ({"keys": [...]}) with at least one key'],
      ];
      for (const [path, why] of cases) {
        expect(problemsOf({ AUTH_MODE: 'jwt', JWT_JWKS_FILE: path })).toEqual([
          `Invalid JWT_JWKS_FILE=${JSON.stringify(path)}: ${why}`,
        ]);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports every invalid or missing variable at once, one line each', () => {
    const problems = problemsOf({ PORT: 'eighty', LOG_LEVEL: 'loud', NODE_ENV: 'production', JWT_SECRET: 'x' });
    expect(problems).toEqual([
      'Invalid PORT="eighty": expected an integer from 0 to 65535',
      'Invalid LOG_LEVEL="loud": expected one of debug, log, warn, error',
      'Invalid JWT_SECRET (value not shown): expected a secret of at least 32 characters (HS256)',
      'Missing ALLOWED_ORIGINS: required with NODE_ENV=production (comma-separated origins, or *)',
    ]);
  });

  it('says which rule implied a requirement, and the way out', () => {
    expect(problemsOf({ NODE_ENV: 'production', ALLOWED_ORIGINS: '*' })).toEqual([
      'Invalid JWT_SECRET / JWT_PUBLIC_KEY / JWT_JWKS_FILE: AUTH_MODE=jwt (implied by NODE_ENV=production) needs exactly one of them (0 set); the alternative is AUTH_MODE=query with ALLOW_INSECURE_AUTH=true',
    ]);
  });

  it('explains a bad origin in plain words, not a pattern', () => {
    const [problem] = problemsOf({ ALLOWED_ORIGINS: 'app.example.com' });
    expect(problem).toBe(
      'Invalid ALLOWED_ORIGINS="app.example.com": expected origins as browsers send them, scheme://host[:port] (https://app.example.com), comma-separated, or *',
    );
  });
});

describe('loadConfig: WEB_CLIENT', () => {
  const production = { NODE_ENV: 'production', ALLOWED_ORIGINS: '*', JWT_SECRET: 'x'.repeat(32) };

  it('serves the chat page in development and not in production, unless told', () => {
    expect(loadConfig({}).web.enabled).toBe(true);
    expect(loadConfig(production).web.enabled).toBe(false);
    expect(loadConfig({ ...production, WEB_CLIENT: 'true' }).web.enabled).toBe(true);
    expect(loadConfig({ WEB_CLIENT: 'false' }).web.enabled).toBe(false);
  });

  it('names WEB_CLIENT when it is not a boolean', () => {
    expect(() => loadConfig({ WEB_CLIENT: 'yes' })).toThrow(/^Invalid WEB_CLIENT="yes": expected true or false$/);
  });
});

describe('loadConfig: cluster mode', () => {
  it('runs alone unless told, with a node id unique to the process', () => {
    const config = loadConfig({});
    expect(config.cluster.mode).toBe('none');
    expect(config.cluster.nodeId).toMatch(/^[A-Za-z0-9.-]+-\d+-[0-9a-f]{6}$/);
    expect(loadConfig({}).cluster.nodeId).not.toBe(config.cluster.nodeId);
    expect(config.redis).toEqual({ url: 'redis://127.0.0.1:6379', keyPrefix: 'im:' });
    expect(config.cluster.presenceTtlSeconds).toBe(15);
  });

  it('refuses CLUSTER=redis over an inbox that only one process can open, in one line', () => {
    expect(() => loadConfig({ CLUSTER: 'redis' })).toThrow(
      /^Invalid CLUSTER="redis" with OFFLINE_STORE="sqlite": the nodes of a cluster share one inbox; set OFFLINE_STORE=redis$/,
    );
    expect(() => loadConfig({ CLUSTER: 'redis', OFFLINE_STORE: 'memory' })).toThrow(/OFFLINE_STORE="memory"/);
  });

  it('runs as a node of a cluster over a Redis inbox', () => {
    const config = loadConfig({
      CLUSTER: 'redis',
      OFFLINE_STORE: 'redis',
      REDIS_URL: 'rediss://:secret@redis.internal:6380/2',
      NODE_ID: 'gw-1',
      PRESENCE_TTL_SECONDS: '5',
    });
    expect(config.cluster).toEqual({ mode: 'redis', nodeId: 'gw-1', presenceTtlSeconds: 5 });
    expect(config.offline.driver).toBe('redis');
    expect(config.redis.url).toBe('rediss://:secret@redis.internal:6380/2');
  });

  it('says what REDIS_URL and NODE_ID accept, and never shows the URL, which may hold a password', () => {
    expect(() => loadConfig({ REDIS_URL: 'http://:hunter2@redis:6379' })).toThrow(
      /^Invalid REDIS_URL \(value not shown\): expected a redis:\/\/ or rediss:\/\/ URL/,
    );
    expect(() => loadConfig({ REDIS_URL: 'http://:hunter2@redis:6379' })).not.toThrow(/hunter2/);
    expect(() => loadConfig({ NODE_ID: 'gw 1' })).toThrow(/^Invalid NODE_ID="gw 1": expected up to 64 letters/);
    expect(() => loadConfig({ CLUSTER: 'yes' })).toThrow(/^Invalid CLUSTER="yes": expected one of none, redis$/);
  });
});
