import { exportJWK, exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { writeFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load-config.js';
import { startGateway, tempDir, type TestGateway } from './support/gateway.js';
import { JsonClient } from './support/json-client.js';
import { sleep, TestClient, UpgradeRefused } from './support/ws-client.js';

const SECRET = 'a-test-secret-that-is-long-enough-for-hs256';
const secretKey = new TextEncoder().encode(SECRET);

function token(sub: string, options: { exp?: number | string; aud?: string; iss?: string; key?: Uint8Array } = {}) {
  let jwt = new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setIssuedAt();
  if (options.exp !== undefined) jwt = jwt.setExpirationTime(options.exp);
  if (options.aud) jwt = jwt.setAudience(options.aud);
  if (options.iss) jwt = jwt.setIssuer(options.iss);
  return jwt.sign(options.key ?? secretKey);
}

async function refused(url: string, options: Parameters<typeof TestClient.open>[1] = {}): Promise<UpgradeRefused> {
  const error = await TestClient.open(url, options).then(
    (c) => {
      void c.close();
      return undefined;
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UpgradeRefused);
  return error as UpgradeRefused;
}

describe('AUTH_MODE=jwt with an HS256 secret', () => {
  let gw: TestGateway;
  const base = () => `ws://127.0.0.1:${gw.port}/ws`;
  beforeAll(async () => {
    gw = await startGateway({
      AUTH_MODE: 'jwt',
      JWT_SECRET: SECRET,
      JWT_AUDIENCE: 'chat',
      JWT_ISSUER: 'https://auth.example',
    });
  });
  afterAll(() => gw.close());
  const good = (sub: string, exp: number | string = '1h') =>
    token(sub, { exp, aud: 'chat', iss: 'https://auth.example' });

  it('takes the user from the token in the query, and ignores ?user=', async () => {
    const bob = await TestClient.open(`${base()}?token=${await good('bob')}&user=mallory`);
    const alice = await TestClient.open(`${base()}?token=${await good('alice')}`);
    alice.send('bob|for bob');
    expect(await bob.next()).toBe('for bob');
    alice.send('mallory|not for bob');
    // A sleep, not a poll: proves the message for mallory never reaches bob.
    await sleep(100);
    expect(bob.received).toEqual(['for bob']);
    await alice.close();
    await bob.close();
  });

  it('takes the token from the Authorization header', async () => {
    const c = await TestClient.open(base(), { headers: { Authorization: `Bearer ${await good('carol')}` } });
    await c.close();
  });

  it.each([
    ['no token', async () => ''],
    ['a malformed token', async () => '?token=not.a.jwt'],
    [
      'a badly signed token',
      async () =>
        `?token=${await token('bob', { exp: '1h', aud: 'chat', iss: 'https://auth.example', key: new TextEncoder().encode('x'.repeat(40)) })}`,
    ],
    ['an expired token', async () => `?token=${await good('bob', Math.floor(Date.now() / 1000) - 120)}`],
    [
      'a token for another audience',
      async () => `?token=${await token('bob', { exp: '1h', aud: 'other', iss: 'https://auth.example' })}`,
    ],
    [
      'a token from another issuer',
      async () => `?token=${await token('bob', { exp: '1h', aud: 'chat', iss: 'https://evil.example' })}`,
    ],
    ['a token whose subject is not a valid user id', async () => `?token=${await good('a|b')}`],
    ['a user without a token', async () => '?user=bob'],
  ])('refuses %s with HTTP 401 before a socket opens', async (_, query) => {
    const error = await refused(`${base()}${await query()}`);
    expect(error.status).toBe(401);
  });

  it.each([
    [
      'a token without "exp"',
      () => token('bob', { aud: 'chat', iss: 'https://auth.example' }),
      'token has no "exp" claim',
    ],
    [
      'a subject with a lone surrogate',
      () => good('k\ud800'),
      'token subject: user id must be well-formed UTF-16; it has a lone surrogate (U+D800 at index 1)',
    ],
    [
      'a subject with U+2028',
      () => good('bo\u2028b'),
      'token subject: user id must not contain U+2028, a line or paragraph separator',
    ],
    [
      'a subject with a bidi override',
      () => good('bo\u202eb'),
      'token subject: user id must not contain U+202E, a bidirectional text control',
    ],
    [
      'a subject with U+FEFF',
      () => good('bob\ufeff'),
      'token subject: user id must not contain U+FEFF, an invisible format character (Unicode category Cf)',
    ],
  ])('refuses %s with HTTP 401 and the reason', async (_, jwt, reason) => {
    const error = await refused(`${base()}?token=${await jwt()}`);
    expect(error).toMatchObject({ status: 401, body: reason });
  });

  it('accepts a token expired within JWT_CLOCK_SKEW_SECONDS', async () => {
    const c = await TestClient.open(`${base()}?token=${await good('dave', Math.floor(Date.now() / 1000) - 5)}`);
    await c.close();
  });
});

describe('token expiry on an open connection', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({ AUTH_MODE: 'jwt', JWT_SECRET: SECRET, JWT_CLOCK_SKEW_SECONDS: '0' });
  });
  afterAll(() => gw.close());
  const url = (t: string) => `ws://127.0.0.1:${gw.port}/ws?token=${t}`;
  const inSeconds = (s: number) => Math.floor(Date.now() / 1000) + s;

  it('closes the connection with 4401 "token expired" when the token runs out', async () => {
    const c = await TestClient.open(url(await token('erin', { exp: inSeconds(2) })));
    expect(await c.closed(4_000)).toEqual({ code: 4401, reason: 'token expired' });
  });

  it('keeps a JSON connection that refreshed its token in time', async () => {
    const c = await JsonClient.open(url(await token('frank', { exp: inSeconds(2) })));
    c.emit('refresh', { token: await token('frank', { exp: '1h' }) });
    // A sleep, not a poll: the first token's expiry must pass to prove it no longer closes the connection.
    await sleep(2_500);
    c.emit('ping', {});
    await c.next('pong');
    await c.close();
  });

  it('refuses a refresh token without "exp" with BAD_TOKEN, and the connection keeps its expiry', async () => {
    const c = await JsonClient.open(url(await token('hank', { exp: inSeconds(2) })));
    c.emit('refresh', { token: await token('hank') });
    expect(await c.next('error')).toEqual({ code: 'BAD_TOKEN', message: 'token has no "exp" claim' });
    expect(await c.raw.closed(4_000)).toEqual({ code: 4401, reason: 'token expired' });
  });

  it('refuses a refresh token for another user with BAD_TOKEN', async () => {
    const c = await JsonClient.open(url(await token('gina', { exp: '1h' })));
    c.emit('refresh', { token: await token('mallory', { exp: '1h' }) });
    expect((await c.next('error')).code).toBe('BAD_TOKEN');
    await c.close();
  });
});

describe('JWT_ALLOW_NO_EXP=true', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({
      AUTH_MODE: 'jwt',
      JWT_SECRET: SECRET,
      JWT_CLOCK_SKEW_SECONDS: '0',
      JWT_ALLOW_NO_EXP: 'true',
    });
  });
  afterAll(() => gw.close());
  const url = (t: string) => `ws://127.0.0.1:${gw.port}/ws?token=${t}`;
  const inSeconds = (s: number) => Math.floor(Date.now() / 1000) + s;

  it('accepts a token without "exp" at the upgrade', async () => {
    const c = await JsonClient.open(url(await token('ivan')));
    c.emit('ping', {});
    await c.next('pong');
    await c.close();
  });

  it('lets a refresh without "exp" lift the expiry: the connection outlives one that expires later', async () => {
    const refreshed = await JsonClient.open(url(await token('judy', { exp: inSeconds(2) })));
    refreshed.emit('refresh', { token: await token('judy') });
    refreshed.emit('ping', {});
    await refreshed.next('pong');
    // Expires a second after judy's first token did: once it is gone, judy's would have been too.
    const control = await JsonClient.open(url(await token('kim', { exp: inSeconds(3) })));
    expect(await control.raw.closed(5_000)).toEqual({ code: 4401, reason: 'token expired' });
    refreshed.emit('ping', {});
    await refreshed.next('pong');
    expect(refreshed.of('error')).toEqual([]);
    await refreshed.close();
  });
});

describe('AUTH_MODE=jwt with public keys', () => {
  const dirs: Array<{ remove(): void }> = [];
  let gw: TestGateway | undefined;
  afterEach(async () => {
    await gw?.close();
    for (const d of dirs.splice(0)) d.remove();
  });

  it.each(['RS256', 'ES256'])('verifies %s tokens against JWT_PUBLIC_KEY', async (alg) => {
    const { publicKey, privateKey } = await generateKeyPair(alg);
    gw = await startGateway({ AUTH_MODE: 'jwt', JWT_PUBLIC_KEY: await exportSPKI(publicKey) });
    const jwt = await new SignJWT({})
      .setProtectedHeader({ alg })
      .setSubject('pk-user')
      .setExpirationTime('1h')
      .sign(privateKey);
    const c = await TestClient.open(`ws://127.0.0.1:${gw.port}/ws?token=${jwt}`);
    await c.close();
    // An HS256 token signed with the public key text must not pass (algorithm confusion).
    const forged = await token('pk-user', { exp: '1h', key: new TextEncoder().encode(await exportSPKI(publicKey)) });
    expect((await refused(`ws://127.0.0.1:${gw.port}/ws?token=${forged}`)).status).toBe(401);
  });

  it('verifies against JWT_JWKS_FILE and picks up a rotated key on SIGHUP', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const path = `${dir.path}/jwks.json`;
    const first = await generateKeyPair('ES256');
    const second = await generateKeyPair('ES256');
    const jwk = async (k: CryptoKey, kid: string) => ({ ...(await exportJWK(k)), kid, alg: 'ES256', use: 'sig' });
    writeFileSync(path, JSON.stringify({ keys: [await jwk(first.publicKey, 'k1')] }));
    gw = await startGateway({ AUTH_MODE: 'jwt', JWT_JWKS_FILE: path });
    const sign = (key: CryptoKey, kid: string) =>
      new SignJWT({})
        .setProtectedHeader({ alg: 'ES256', kid })
        .setSubject('rotating')
        .setExpirationTime('1h')
        .sign(key);
    const url = (t: string) => `ws://127.0.0.1:${gw!.port}/ws?token=${t}`;
    await (await TestClient.open(url(await sign(first.privateKey, 'k1')))).close();
    expect((await refused(url(await sign(second.privateKey, 'k2')))).status).toBe(401);
    writeFileSync(path, JSON.stringify({ keys: [await jwk(second.publicKey, 'k2')] }));
    process.emit('SIGHUP');
    await (await TestClient.open(url(await sign(second.privateKey, 'k2')))).close();
  });
});

describe('configuration rules for production', () => {
  it('refuses AUTH_MODE=query in production unless ALLOW_INSECURE_AUTH=true', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', AUTH_MODE: 'query', ALLOWED_ORIGINS: '*' })).toThrow(/AUTH_MODE/);
    expect(
      loadConfig({ NODE_ENV: 'production', AUTH_MODE: 'query', ALLOWED_ORIGINS: '*', ALLOW_INSECURE_AUTH: 'true' }).auth
        .mode,
    ).toBe('query');
  });

  it('refuses tokens without "exp" unless JWT_ALLOW_NO_EXP=true', () => {
    expect(loadConfig({ AUTH_MODE: 'jwt', JWT_SECRET: SECRET }).auth.jwt?.allowNoExp).toBe(false);
    expect(loadConfig({ AUTH_MODE: 'jwt', JWT_SECRET: SECRET, JWT_ALLOW_NO_EXP: 'true' }).auth.jwt?.allowNoExp).toBe(
      true,
    );
    expect(() => loadConfig({ AUTH_MODE: 'jwt', JWT_SECRET: SECRET, JWT_ALLOW_NO_EXP: 'yes' })).toThrow(
      /JWT_ALLOW_NO_EXP.*true or false/,
    );
  });

  it('requires ALLOWED_ORIGINS in production and exactly one JWT key', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', AUTH_MODE: 'jwt', JWT_SECRET: SECRET })).toThrow(
      /ALLOWED_ORIGINS/,
    );
    expect(() => loadConfig({ AUTH_MODE: 'jwt' })).toThrow(/JWT_SECRET/);
    expect(() => loadConfig({ AUTH_MODE: 'jwt', JWT_SECRET: SECRET, JWT_JWKS_FILE: '/x' })).toThrow(/exactly one/);
    expect(() => loadConfig({ AUTH_MODE: 'jwt', JWT_SECRET: 'short' })).toThrow(/JWT_SECRET.*32/);
  });
});

describe('ALLOWED_ORIGINS (cross-site WebSocket hijacking)', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({ ALLOWED_ORIGINS: 'https://chat.example.com, http://localhost:3000' });
  });
  afterAll(() => gw.close());

  it('refuses a browser upgrade from another origin with HTTP 403', async () => {
    const error = await refused(gw.wsUrl('alice'), { origin: 'https://evil.example' });
    expect(error.status).toBe(403);
  });

  it('accepts listed origins and clients that send no Origin', async () => {
    await (await TestClient.open(gw.wsUrl('alice'), { origin: 'https://chat.example.com' })).close();
    await (await TestClient.open(gw.wsUrl('alice'), { origin: 'http://localhost:3000' })).close();
    await (await TestClient.open(gw.wsUrl('alice'))).close();
  });
});
