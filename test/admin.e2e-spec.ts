import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { OfflineMessageStore } from '../src/offline/offline-message.store.js';
import { startGateway, type TestGateway } from './support/gateway.js';
import { ClientSet } from './support/client-set.js';
import { eventually } from './support/eventually.js';
import { inboxSize } from './support/inbox-size.js';
import { TestClient, sleep, withTimeout } from './support/ws-client.js';

const TOKEN = 'admin-token-for-the-e2e-suite';

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: each test reads the JSON body's fields it expects.
  readonly body: any;
}

/** An HTTP call to the gateway; `body` is sent as JSON unless it is already a string. */
async function call(
  gw: TestGateway,
  method: string,
  path: string,
  options: { body?: unknown; token?: string | null } = {},
): Promise<Answer> {
  const headers: Record<string, string> = {};
  const token = options.token === undefined ? TOKEN : options.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  let body: string | undefined;
  if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
  }
  const res = await withTimeout(fetch(`${gw.httpUrl}${path}`, { method, headers, body }), `${method} ${path}`, 10_000);
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text === '' ? undefined : JSON.parse(text) };
}

describe('admin API without ADMIN_TOKEN', () => {
  let gw: TestGateway;
  beforeEach(async () => {
    gw = await startGateway();
  });
  afterEach(async () => {
    await gw.close();
  });

  it.each([
    ['POST', '/admin/messages'],
    ['GET', '/admin/users/bob'],
    ['DELETE', '/admin/users/bob/connections'],
    ['GET', '/admin/openapi.json'],
  ])('has no %s %s route (404)', async (method, path) => {
    const res = await call(gw, method, path, method === 'POST' ? { body: { to: 'bob', body: 'x' } } : {});
    expect(res.status).toBe(404);
  });
});

describe('admin API', () => {
  let gw: TestGateway;
  const clients = new ClientSet(() => gw);
  const json = (user: string) => clients.json(user);
  const text = (user: string) => clients.text(user);
  const send = (body: unknown) => call(gw, 'POST', '/admin/messages', { body });

  beforeEach(async () => {
    gw = await startGateway({ ADMIN_TOKEN: TOKEN });
  });
  afterEach(async () => {
    await clients.closeAll();
    await gw.close();
  });

  describe('authentication', () => {
    it.each([
      ['no Authorization header', null, 'missing bearer token'],
      ['a wrong token', 'not-the-admin-token-at-all', 'invalid bearer token'],
      ['a prefix of the token', TOKEN.slice(0, -1), 'invalid bearer token'],
    ])('answers 401 JSON to %s', async (_, token, message) => {
      for (const [method, path] of [
        ['POST', '/admin/messages'],
        ['GET', '/admin/users/bob'],
        ['DELETE', '/admin/users/bob/connections'],
        ['GET', '/admin/openapi.json'],
      ] as const) {
        const res = await call(gw, method, path, {
          token,
          ...(method === 'POST' && { body: { to: 'bob', body: 'x' } }),
        });
        expect(res.status).toBe(401);
        expect(res.body).toMatchObject({ statusCode: 401, message });
        expect(res.headers.get('www-authenticate')).toMatch(/^Bearer /);
      }
    });

    it('answers 401 to another scheme carrying the right token', async () => {
      const res = await fetch(`${gw.httpUrl}/admin/users/bob`, { headers: { authorization: `Basic ${TOKEN}` } });
      expect(res.status).toBe(401);
    });

    it('accepts the scheme in any case', async () => {
      const res = await fetch(`${gw.httpUrl}/admin/users/bob`, { headers: { authorization: `bearer ${TOKEN}` } });
      expect(res.status).toBe(200);
    });
  });

  describe('POST /admin/messages', () => {
    it('queues a message for an offline user (200 queued); a plain-text client gets it on connect', async () => {
      const res = await send({ to: 'bob', body: 'maintenance at 22:00', id: 'notice-1' });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ id: 'notice-1', messageId: expect.any(String), status: 'queued' });
      const bob = await text('bob');
      expect(await bob.next()).toBe('maintenance at 22:00');
    });

    it('answers 200 delivered once a live JSON recipient acks, sent by "system" unless `from` is given', async () => {
      const bob = await json('bob');
      const answer = send({ to: 'bob', body: 'hello from ops' });
      const message = await bob.next('message');
      expect(message).toMatchObject({ from: 'system', to: 'bob', body: 'hello from ops' });
      bob.ack(message.id);
      const res = await answer;
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ id: expect.any(String), messageId: message.id, status: 'delivered' });
      expect(res.body.id.length).toBeGreaterThan(0);

      const answer2 = send({ from: 'support', to: 'bob', body: 'second' });
      const second = await bob.next('message');
      expect(second).toMatchObject({ from: 'support', body: 'second' });
      bob.ack(second.id);
      expect((await answer2).body.status).toBe('delivered');
    });

    it('answers 200 delivered once a live plain-text recipient was written to', async () => {
      const bob = await text('bob');
      const res = await send({ to: 'bob', body: 'plain' });
      expect(res).toMatchObject({ status: 200, body: { status: 'delivered' } });
      expect(await bob.next()).toBe('plain');
    });

    it('answers 202 pending when a live recipient does not ack within the wait; the message returns to the inbox when it leaves', async () => {
      const bob = await json('bob');
      const started = Date.now();
      const res = await send({ to: 'bob', body: 'are you there?', id: 'ping-1' });
      expect(Date.now() - started).toBeLessThan(8_000);
      expect(res.status).toBe(202);
      const message = await bob.next('message');
      expect(res.body).toEqual({ id: 'ping-1', messageId: message.id, status: 'pending' });

      await bob.close();
      await eventually("the unacked message back in bob's inbox", async () =>
        expect(await inboxSize(gw, 'bob')).toBe(1),
      );
      const again = await send({ to: 'bob', body: 'are you there?', id: 'ping-1' });
      expect(again).toMatchObject({ status: 200, body: { id: 'ping-1', messageId: message.id, status: 'queued' } });
      const back = await json('bob');
      expect(await back.next('message')).toMatchObject({ id: message.id, body: 'are you there?' });
    }, 15_000);

    it('is idempotent per (from, id): a repeat answers the same messageId and the current status, and stores nothing twice', async () => {
      const first = await send({ from: 'ops', to: 'bob', body: 'once', id: 'same' });
      const repeat = await send({ from: 'ops', to: 'bob', body: 'once', id: 'same' });
      expect(first).toMatchObject({ status: 200, body: { status: 'queued' } });
      expect(repeat.body).toEqual(first.body);

      const bob = await json('bob');
      const message = await bob.next('message');
      expect(message.id).toBe(first.body.messageId);
      bob.ack(message.id);
      // A sleep, not a poll: a second stored copy would show up in this time, and nothing else would.
      await sleep(200);
      expect(bob.of('message')).toHaveLength(1);
      expect((await send({ from: 'ops', to: 'bob', body: 'once', id: 'same' })).body).toEqual({
        id: 'same',
        messageId: first.body.messageId,
        status: 'delivered',
      });

      // The key is per sender: another sender with the same id sends another message.
      const other = await send({ from: 'ops-2', to: 'carol', body: 'once', id: 'same' });
      expect(other.body.messageId).not.toBe(first.body.messageId);
    });

    it.each([
      ['a missing "to"', { body: 'x' }, /^to: /],
      ['an invalid recipient', { to: 'a|b', body: 'x' }, /^to: user id must/],
      [
        'a recipient with surrounding whitespace',
        { to: ' bob', body: 'x' },
        /^to: user id must not start or end with whitespace/,
      ],
      ['an invalid sender', { from: '', to: 'bob', body: 'x' }, /^from: missing user id/],
      ['a numeric body', { to: 'bob', body: 5 }, /^body: /],
      ['a missing body', { to: 'bob' }, /^body: /],
      ['an id of 65 characters', { to: 'bob', body: 'x', id: 'i'.repeat(65) }, /^id: /],
      ['an empty id', { to: 'bob', body: 'x', id: '' }, /^id: /],
      ['an unknown field', { to: 'bob', body: 'x', priority: 'high' }, /priority/],
      [
        'an id with a lone surrogate',
        { to: 'bob', body: 'x', id: 'k\ud800' },
        /^id: must be well-formed UTF-16; it has a lone surrogate \(U\+D800 at index 1\)$/,
      ],
      [
        'a body with a lone surrogate',
        { to: 'bob', body: 'a\udfffb' },
        /^body: must be well-formed UTF-16; it has a lone surrogate \(U\+DFFF at index 1\)$/,
      ],
      [
        'a recipient with U+2028',
        { to: 'bo\u2028b', body: 'x' },
        /^to: user id must not contain U\+2028, a line or paragraph separator$/,
      ],
      [
        'a sender with a bidi override',
        { from: 'ops\u202e', to: 'bob', body: 'x' },
        /^from: user id must not contain U\+202E, a bidirectional text control$/,
      ],
      ['an array', [{ to: 'bob', body: 'x' }], /object/],
      ['a JSON string', '"bob|x"', /object/],
    ])('answers 400 JSON with a reason to %s', async (_, body, reason) => {
      const res = await send(body);
      expect(res.status).toBe(400);
      expect(res.body.statusCode).toBe(400);
      expect(res.body.message).toMatch(reason);
    });

    it('answers 400 JSON to malformed JSON and to a "__proto__" key', async () => {
      for (const raw of ['{"to":"bob",', '{"to":"bob","body":"x","__proto__":{"polluted":true}}']) {
        const res = await send(raw);
        expect(res.status).toBe(400);
        expect(res.body.statusCode).toBe(400);
        expect(typeof res.body.message).toBe('string');
      }
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    it('answers 413 JSON to a body over MAX_PAYLOAD_BYTES, counted in UTF-8 bytes', async () => {
      for (const body of ['x'.repeat(65_537), 'é'.repeat(40_000)]) {
        const res = await send({ to: 'bob', body });
        expect(res.status).toBe(413);
        expect(res.body).toMatchObject({ statusCode: 413, message: expect.stringContaining('MAX_PAYLOAD_BYTES') });
      }
      expect((await send({ to: 'bob', body: 'x'.repeat(65_536) })).status).toBe(200);
    });

    it("answers 409 JSON when the recipient's inbox is full, and stores nothing", async () => {
      const small = await startGateway({ ADMIN_TOKEN: TOKEN, INBOX_MAX_MESSAGES: '1' });
      try {
        expect((await call(small, 'POST', '/admin/messages', { body: { to: 'bob', body: 'first' } })).status).toBe(200);
        const res = await call(small, 'POST', '/admin/messages', { body: { to: 'bob', body: 'second', id: 'n-2' } });
        expect(res.status).toBe(409);
        expect(res.body).toMatchObject({ statusCode: 409, message: expect.stringContaining('full') });
        const bob = await TestClient.open(small.wsUrl('bob'));
        expect(await bob.next()).toBe('first');
        // A sleep, not a poll: proves the refused message never arrives.
        await sleep(200);
        expect(bob.received).toEqual(['first']);
        await bob.close();
      } finally {
        await small.close();
      }
    });

    it('answers 503 JSON when the offline store fails, and a retry succeeds', async () => {
      const store = gw.app.get(OfflineMessageStore);
      // The store is read for a client id it may have a record of: a resend.
      expect(await send({ to: 'bob', body: 'x', id: 'r-0' })).toMatchObject({ status: 200 });
      const lookup = vi.spyOn(store, 'findSent').mockRejectedValueOnce(new Error('disk I/O error'));
      const failedLookup = await send({ to: 'bob', body: 'x', id: 'r-0' });
      expect(failedLookup.status).toBe(503);
      expect(failedLookup.body).toMatchObject({
        statusCode: 503,
        message: expect.stringContaining('nothing was stored'),
      });
      lookup.mockRestore();

      const write = vi.spyOn(store, 'write').mockRejectedValueOnce(new Error('disk I/O error'));
      const failedWrite = await send({ to: 'bob', body: 'x', id: 'r-1' });
      expect(failedWrite.status).toBe(503);
      write.mockRestore();

      expect(await send({ to: 'bob', body: 'x', id: 'r-1' })).toMatchObject({
        status: 200,
        body: { status: 'queued' },
      });
    });
  });

  describe('users', () => {
    it('GET /admin/users/:id lists the live connections of a user on this node', async () => {
      const before = Date.now();
      await text('bob');
      await json('bob');
      const res = await call(gw, 'GET', '/admin/users/bob');
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ user: 'bob', online: true, nodes: [expect.any(String)] });
      expect(res.body.connections.map((c: { protocol: string }) => c.protocol).sort()).toEqual(['json', 'text']);
      for (const c of res.body.connections) {
        expect(typeof c.id).toBe('number');
        expect(new Date(c.openedAt).toISOString()).toBe(c.openedAt);
        expect(Date.parse(c.openedAt)).toBeGreaterThanOrEqual(before - 1_000);
      }
    });

    it('GET /admin/users/:id answers offline for a user with no connection', async () => {
      const res = await call(gw, 'GET', `/admin/users/${encodeURIComponent('carol@example.com')}`);
      expect(res).toMatchObject({
        status: 200,
        body: { user: 'carol@example.com', online: false, connections: [], nodes: [] },
      });
    });

    it.each([
      ['a "|"', 'a%7Cb'],
      ['surrounding whitespace', '%20bob'],
      ['a control character', 'bob%07'],
      ['129 characters', 'é'.repeat(129)],
      ['U+2028', 'bo%E2%80%A8b'],
      ['a bidi isolate', 'bo%E2%81%A6b'],
      ['a zero-width space', 'bo%E2%80%8Bb'],
    ])('GET and DELETE answer 400 JSON to a user id with %s', async (_, id) => {
      for (const [method, path] of [
        ['GET', `/admin/users/${id}`],
        ['DELETE', `/admin/users/${id}/connections`],
      ]) {
        const res = await call(gw, method!, path!);
        expect(res.status).toBe(400);
        expect(res.body).toMatchObject({ statusCode: 400, message: expect.stringMatching(/^user id must/) });
      }
    });

    it('takes any valid user id in the path, up to 128 characters', async () => {
      const longest = '😀'.repeat(128);
      const res = await call(gw, 'GET', `/admin/users/${encodeURIComponent(longest)}`);
      expect(res).toMatchObject({ status: 200, body: { user: longest, online: false } });
      const kicked = await call(gw, 'DELETE', `/admin/users/${encodeURIComponent(longest)}/connections`);
      expect(kicked).toMatchObject({ status: 200, body: { closed: 0 } });
    });

    it('DELETE /admin/users/:id/connections closes every connection with 4003 and presence turns offline', async () => {
      const a = await text('bob');
      const b = await json('bob');
      const carol = await text('carol');
      const res = await call(gw, 'DELETE', '/admin/users/bob/connections');
      expect(res).toMatchObject({ status: 200, body: { closed: 2 } });
      expect(await a.closed()).toEqual({ code: 4003, reason: 'kicked' });
      expect(await b.raw.closed()).toEqual({ code: 4003, reason: 'kicked' });
      expect((await call(gw, 'GET', '/admin/users/bob')).body).toMatchObject({
        online: false,
        connections: [],
        nodes: [],
      });
      expect((await call(gw, 'GET', '/admin/users/carol')).body.online).toBe(true);
      expect(carol.socket.readyState).toBe(carol.socket.OPEN);
      expect((await call(gw, 'DELETE', '/admin/users/bob/connections')).body).toEqual({ closed: 0, otherNodes: 0 });
    });

    it('DELETE hands what a kicked connection had not acked back to the inbox', async () => {
      const alice = await json('alice');
      const bob = await json('bob');
      alice.send('c-1', 'bob', 'unread');
      const message = await bob.next('message');
      await call(gw, 'DELETE', '/admin/users/bob/connections');
      await bob.raw.closed();
      expect(await alice.next('sent')).toMatchObject({ id: 'c-1', status: 'queued' });
      const again = await json('bob');
      expect(await again.next('message')).toMatchObject({ id: message.id, body: 'unread' });
    });
  });

  describe('GET /admin/openapi.json', () => {
    it('describes the admin routes with bearer auth', async () => {
      const res = await call(gw, 'GET', '/admin/openapi.json');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      const doc = res.body;
      expect(doc.openapi).toMatch(/^3\./);
      expect(Object.keys(doc.paths).sort()).toEqual([
        '/admin/messages',
        '/admin/users/{id}',
        '/admin/users/{id}/connections',
      ]);
      expect(Object.keys(doc.paths['/admin/messages'])).toEqual(['post']);
      expect(Object.keys(doc.paths['/admin/users/{id}'])).toEqual(['get']);
      expect(Object.keys(doc.paths['/admin/users/{id}/connections'])).toEqual(['delete']);
      expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
      expect(doc.paths['/admin/messages'].post.security).toEqual([{ bearer: [] }]);
      expect(Object.keys(doc.paths['/admin/messages'].post.responses)).toEqual(
        expect.arrayContaining(['200', '202', '400', '401', '413', '503']),
      );
      // Served twice from the same document.
      expect((await call(gw, 'GET', '/admin/openapi.json')).body).toEqual(doc);
    });
  });
});
