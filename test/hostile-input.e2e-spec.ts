import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from './support/gateway.js';
import { JsonClient } from './support/json-client.js';
import { TestClient } from './support/ws-client.js';

/**
 * Whatever a client sends, the gateway answers as documented, never crashes, and never touches
 * another user's connection or inbox.
 */
describe('hostile input', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({ MAX_PAYLOAD_BYTES: '1048576' });
  });
  afterAll(() => gw.close());

  /** A bystander pair: carol's inbox and dave's live connection must come through untouched. */
  async function bystanders() {
    const dave = await TestClient.open(gw.wsUrl('dave'));
    const eve = await TestClient.open(gw.wsUrl('eve'));
    eve.send('carol|kept for carol');
    return {
      async check() {
        eve.send('dave|still delivered');
        expect(await dave.next()).toBe('still delivered');
        const carol = await TestClient.open(gw.wsUrl('carol'));
        expect(await carol.next()).toBe('kept for carol');
        await Promise.all([carol.close(), dave.close(), eve.close()]);
        const health = await fetch(`${gw.httpUrl}/health`);
        expect(health.status).toBe(200);
      },
    };
  }

  it('survives any sequence of text and binary frames on the plain-text protocol', async () => {
    const others = await bystanders();
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            fc.string({ unit: 'binary', maxLength: 300 }).map((s) => ({ text: s })),
            fc.string({ unit: 'binary', maxLength: 40 }).map((s) => ({ text: `mallory|${s}` })),
            fc.uint8Array({ maxLength: 64 }).map((b) => ({ raw: Buffer.from(b) })),
          ),
          { maxLength: 20 },
        ),
        async (frames) => {
          const m = await TestClient.open(gw.wsUrl('mallory'));
          for (const f of frames) {
            if (m.socket.readyState !== m.socket.OPEN) break;
            if ('text' in f) m.send(f.text);
            else m.send(f.raw, { binary: f.raw.length % 2 === 0 }); // odd: as text, maybe invalid UTF-8
          }
          m.socket.close();
          const { code } = await m.closed();
          expect([1000, 1003, 1005, 1007]).toContain(code);
        },
      ),
      { numRuns: 60 },
    );
    await others.check();
  });

  it('answers any frame on the JSON protocol with a documented event, and stays open', async () => {
    const others = await bystanders();
    const m = await JsonClient.open(gw.wsUrl('mallory'));
    const documented = new Set(['sent', 'error', 'pong', 'message', 'receipt']);
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 200 }),
          fc.json(),
          fc
            .record({
              event: fc.constantFrom('send', 'ack', 'ping', 'refresh', '__proto__', 'constructor'),
              data: fc.jsonValue(),
            })
            .map((f) => JSON.stringify(f)),
        ),
        async (frame) => {
          const before = m.raw.received.length;
          m.raw.send(frame);
          m.emit('ping', {});
          const frames = await m.raw.waitFor(before + 1);
          for (const raw of frames.slice(before)) expect(documented.has(JSON.parse(raw).event)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
    expect(m.raw.socket.readyState).toBe(m.raw.socket.OPEN);
    await m.close();
    await others.check();
  });

  describe('specific shapes', () => {
    let json: JsonClient;
    beforeAll(async () => {
      json = await JsonClient.open(gw.wsUrl('tester'));
    });
    afterAll(() => json.close());

    it('routes empty bodies', async () => {
      const bob = await JsonClient.open(gw.wsUrl('empty-bob'));
      json.send('e1', 'empty-bob', '');
      expect((await bob.next('message')).body).toBe('');
      const plainBob = await TestClient.open(gw.wsUrl('empty-plain'));
      const plain = await TestClient.open(gw.wsUrl('plain-sender'));
      plain.send('empty-plain|');
      expect(await plainBob.next()).toBe('');
      await Promise.all([bob.close(), plainBob.close(), plain.close()]);
    });

    it('carries a 1 MB body whole when MAX_PAYLOAD_BYTES allows it', async () => {
      const bob = await JsonClient.open(gw.wsUrl('big-bob'));
      const body = 'é'.repeat(400_000); // 800 KB of UTF-8, 1 MB frame with the JSON envelope below the limit
      json.send('big', 'big-bob', body);
      expect((await bob.next('message')).body).toBe(body);
      await bob.close();
    });

    it('refuses wrong types and ignores extra fields', async () => {
      json.emit('send', { id: 1, to: 'bob', body: 'x' });
      expect((await json.next('error')).code).toBe('BAD_FRAME');
      json.emit('send', { id: 'x1', to: ['bob'], body: 'x' });
      expect((await json.next('error')).code).toBe('BAD_FRAME');
      json.emit('ack', { ids: [1, 2] });
      expect((await json.next('error')).code).toBe('BAD_FRAME');
      json.raw.send(
        JSON.stringify({
          event: 'send',
          data: { id: 'x2', to: 'nobody-yet', body: 'b', extra: { deep: true } },
          more: 1,
        }),
      );
      expect(await json.next('sent')).toMatchObject({ id: 'x2', status: 'queued' });
    });

    it('refuses deeply nested JSON without harm', async () => {
      json.raw.send(`{"event":"send","data":${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)}}`);
      expect((await json.next('error')).code).toBe('BAD_FRAME');
      json.raw.send(`${'['.repeat(100_000)}${']'.repeat(100_000)}`);
      expect((await json.next('error')).code).toBe('BAD_FRAME');
    });

    it('is not polluted by __proto__ keys', async () => {
      json.raw.send('{"event":"send","data":{"__proto__":{"isAdmin":true},"id":"p1","to":"proto-bob","body":"b"}}');
      expect(await json.next('sent')).toMatchObject({ id: 'p1' });
      json.raw.send('{"__proto__":{"event":"ping"},"data":{}}');
      expect((await json.next('error')).code).toBe('BAD_FRAME');
      expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
    });

    it('takes ids with | in a JSON send as a bad recipient, and in plain text as the separator', async () => {
      json.send('pipe', 'a|b', 'x');
      expect(await json.next('error')).toMatchObject({ code: 'BAD_RECIPIENT', id: 'pipe' });
      const ab = await TestClient.open(gw.wsUrl('a'));
      const plain = await TestClient.open(gw.wsUrl('pipe-sender'));
      plain.send('a|b|c');
      expect(await ab.next()).toBe('b|c');
      await Promise.all([ab.close(), plain.close()]);
    });

    it('routes between users with very long and unusual Unicode ids', async () => {
      const ids = ['𝓊'.repeat(128), 'ا'.repeat(128), 'e\u0301z\u0308q\u00a0r', 'x'.repeat(128)];
      for (const id of ids) {
        const to = await JsonClient.open(gw.wsUrl(id));
        json.send(`u-${ids.indexOf(id)}`, id, `to ${id.length}`);
        expect(await to.next('message')).toMatchObject({ to: id, from: 'tester' });
        await to.close();
      }
      json.send('too-long', 'x'.repeat(129), 'x');
      expect(await json.next('error')).toMatchObject({ code: 'BAD_RECIPIENT' });
      // Invisible joiners and byte-order marks would let two ids that look alike name two users.
      json.send('invisible', 'e\u0301\u200dz\ufeffq', 'x');
      expect(await json.next('error')).toMatchObject({ code: 'BAD_RECIPIENT', id: 'invisible' });
    });
  });
});
