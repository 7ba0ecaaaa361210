import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ChildGateway } from './support/child-gateway.js';
import { ClientSet } from './support/client-set.js';
import { startGateway, type TestGateway } from './support/gateway.js';
import { until } from './support/sdk-user.js';
import { TestClient, UpgradeRefused } from './support/ws-client.js';

/**
 * Text a client controls is either well-formed and safe to show, or refused with a reason:
 * lone surrogates (which UTF-8 turns into U+FFFD), and in user ids line separators, bidi
 * controls and invisible format characters. Whatever reaches a log line is escaped.
 */
describe('text hygiene', () => {
  let gw: TestGateway;
  const clients = new ClientSet(() => gw);
  beforeAll(async () => {
    gw = await startGateway();
  });
  afterEach(() => clients.closeAll());
  afterAll(() => gw.close());

  describe('lone surrogates on the JSON protocol', () => {
    it('refuses k\\ud800 and k\\udbff, which UTF-8 would collapse into one message id; well-formed ids still work', async () => {
      const alice = await clients.json('alice-ls');
      const bob = await clients.json('bob-ls');
      alice.send('k\ud800', 'bob-ls', 'first');
      const first = await alice.next('error');
      expect(first).toEqual({
        code: 'BAD_FRAME',
        message: 'send: "id" must be well-formed UTF-16; it has a lone surrogate (U+D800 at index 1)',
      });
      alice.send('k\udbff', 'bob-ls', 'second');
      expect(await alice.next('error')).toMatchObject({
        code: 'BAD_FRAME',
        message: expect.stringContaining('(U+DBFF at index 1)'),
      });

      alice.send('k\ud83d\ude00', 'bob-ls', 'paired surrogates are one character');
      alice.send('k\ufffd', 'bob-ls', 'a replacement character is a character too');
      // Order per sender is kept: had a refused send been routed, it would have arrived first.
      const received = await bob.all('message', 2);
      expect(received.map((m) => m.body)).toEqual([
        'paired surrogates are one character',
        'a replacement character is a character too',
      ]);
      bob.ack(...received.map((m) => m.id as string));
      const sent = await alice.all('sent', 2);
      expect(sent.map((s) => [s.id, s.status])).toEqual([
        ['k😀', 'delivered'],
        ['k\ufffd', 'delivered'],
      ]);
      expect(sent[0]!.messageId).not.toBe(sent[1]!.messageId);
    });

    it('refuses a body with a lone surrogate, naming the client id, and stores nothing', async () => {
      const alice = await clients.json('alice-body');
      alice.send('b-1', 'carol-body', 'x\udc00y');
      expect(await alice.next('error')).toEqual({
        code: 'BAD_FRAME',
        message: 'send: "body" must be well-formed UTF-16; it has a lone surrogate (U+DC00 at index 1)',
        id: 'b-1',
      });
      alice.send('b-2', 'carol-body', 'after');
      expect(await alice.next('sent')).toMatchObject({ id: 'b-2', status: 'queued' });
      const carol = await clients.json('carol-body');
      // The inbox drains in order: a stored b-1 would come before b-2.
      expect((await carol.next('message')).body).toBe('after');
      expect(carol.of('message')).toHaveLength(1);
    });
  });

  describe('recipients', () => {
    it.each([
      ['a line separator', 'bo\u2028b', 'must not contain U+2028, a line or paragraph separator'],
      ['a bidi override', 'bo\u202eb', 'must not contain U+202E, a bidirectional text control'],
      [
        'a zero-width space',
        'bo\u200bb',
        'must not contain U+200B, an invisible format character (Unicode category Cf)',
      ],
      ['a lone surrogate', 'bo\udfffb', 'must be well-formed UTF-16; it has a lone surrogate (U+DFFF at index 2)'],
    ])('answers a JSON send to a user id with %s with BAD_RECIPIENT and the reason', async (_, to, reason) => {
      const alice = await clients.json('alice-to');
      alice.send('r-1', to, 'x');
      expect(await alice.next('error')).toEqual({
        code: 'BAD_RECIPIENT',
        message: `send: "to" is not a valid user id: user id ${reason}`,
        id: 'r-1',
      });
    });

    it('drops a plain-text frame to a user id with U+2028 inside, which does not become the last recipient', async () => {
      const bob = await clients.text('bob-plain');
      const sender = await clients.text('plain-sender');
      sender.send('bob-plain|first');
      sender.send('bob-plain\u2028x|to a refused recipient');
      sender.send('bob\u202e-plain|to another refused recipient');
      sender.send('no separator: for the last valid recipient');
      expect(await bob.waitFor(2)).toEqual(['first', 'no separator: for the last valid recipient']);
    });

    it('closes a plain-text frame holding an encoded surrogate with 1007: ws validates UTF-8', async () => {
      const bob = await clients.text('bob-utf8');
      const sender = await clients.text('utf8-sender');
      // ED A0 80 is U+D800 in WTF-8/CESU-8: not UTF-8, so it never becomes a string.
      sender.send(Buffer.concat([Buffer.from('bob-utf8|'), Buffer.from([0xed, 0xa0, 0x80])]), { binary: false });
      expect((await sender.closed()).code).toBe(1007);
      const other = await clients.text('utf8-other');
      other.send('bob-utf8|after');
      expect(await bob.next()).toBe('after');
      expect(bob.received).toEqual(['after']);
    });
  });

  describe('the upgrade', () => {
    it.each([
      ['U+2028', 'bo\u2028b', 'user id must not contain U+2028, a line or paragraph separator'],
      ['U+2029', 'bo\u2029b', 'user id must not contain U+2029, a line or paragraph separator'],
      ['U+202E', 'bo\u202eb', 'user id must not contain U+202E, a bidirectional text control'],
      ['U+2066', 'bo\u2066b', 'user id must not contain U+2066, a bidirectional text control'],
      ['U+061C', 'bo\u061cb', 'user id must not contain U+061C, a bidirectional text control'],
      ['U+200F', 'bo\u200fb', 'user id must not contain U+200F, a bidirectional text control'],
      ['U+200B', 'bo\u200bb', 'user id must not contain U+200B, an invisible format character (Unicode category Cf)'],
      [
        'a leading U+FEFF',
        '\ufeffbob',
        'user id must not contain U+FEFF, an invisible format character (Unicode category Cf)',
      ],
      ['U+00AD', 'bo\u00adb', 'user id must not contain U+00AD, an invisible format character (Unicode category Cf)'],
    ])('refuses ?user= with %s with HTTP 400 and the reason', async (_, user, reason) => {
      const error = await TestClient.open(gw.wsUrl(user)).then(
        (c) => c.close(),
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(UpgradeRefused);
      expect(error).toMatchObject({ status: 400, body: reason });
    });
  });
});

describe('log lines', () => {
  let child: ChildGateway | undefined;
  afterEach(async () => {
    await child?.stop('SIGKILL');
  });

  it('escape a close reason with U+2028, a bidi override and a newline, and quote a user id with a space', async () => {
    child = await ChildGateway.start({ OFFLINE_STORE: 'memory', LOG_FORMAT: 'pretty' });
    const g = child;
    const zoe = await TestClient.open(g.wsUrl('Zoë 山田'));
    zoe.socket.close(4000, 'bye\u2028[Nest] 1 - FORGED\u202egol\nLOG x');
    await zoe.closed();
    await until(() => g.output.includes('Disconnected'), 'the disconnect log line');
    expect(g.output).toContain('Connected: connection 1 of user "Zoë 山田" (text)');
    expect(g.output).toMatch(
      /Disconnected: connection 1 of user "Zoë 山田" \(code 4000 "bye\\u2028\[Nest\] 1 - FORGED\\u202egol\\nLOG x", [\d.]+ s\)/,
    );
    expect(g.output).not.toMatch(/[\u2028\u2029\u202e]/u);
    // Every line is one the logger started: nothing the client sent began a line of its own.
    for (const line of g.output.trimEnd().split('\n')) expect(line).toMatch(/^\[Nest\] \d+ +- /);
  });
});
