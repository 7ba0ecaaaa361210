import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startGateway, tempDir, type TestGateway } from './support/gateway.js';
import { ClientSet } from './support/client-set.js';
import { eventually } from './support/eventually.js';
import { inboxSize } from './support/inbox-size.js';
import { expectSilence } from './support/ws-client.js';

describe('JSON protocol (im.v1.json)', () => {
  let gw: TestGateway;
  let dir: { path: string; remove(): void };
  const clients = new ClientSet(() => gw);
  const json = (user: string) => clients.json(user);
  const text = (user: string) => clients.text(user);

  beforeEach(async () => {
    dir = tempDir();
    gw = await startGateway({ OFFLINE_STORE: 'sqlite', SQLITE_PATH: `${dir.path}/offline.db` });
  });
  afterEach(async () => {
    await clients.closeAll();
    await gw.close();
    dir.remove();
  });

  it('selects the subprotocol when offered', async () => {
    const c = await json('alice');
    expect(c.raw.socket.protocol).toBe('im.v1.json');
  });

  it('delivers a message, and answers the sender delivered once the recipient acks', async () => {
    const alice = await json('alice');
    const bob = await json('bob');
    alice.send('c-1', 'bob', 'hello');
    const message = await bob.next('message');
    expect(message).toMatchObject({ from: 'alice', to: 'bob', body: 'hello' });
    expect(typeof message.id).toBe('string');
    expect(Math.abs(message.ts - Date.now())).toBeLessThan(5_000);
    await expectSilence(alice.raw, 100);
    bob.ack(message.id);
    expect(await alice.next('sent')).toEqual({ id: 'c-1', messageId: message.id, status: 'delivered' });
  });

  it('answers queued for an offline recipient, then a receipt when it is delivered and acked', async () => {
    const alice = await json('alice');
    alice.send('c-1', 'bob', 'later');
    const sent = await alice.next('sent');
    expect(sent).toMatchObject({ id: 'c-1', status: 'queued' });
    const bob = await json('bob');
    const message = await bob.next('message');
    expect(message).toMatchObject({ id: sent.messageId, body: 'later', from: 'alice' });
    bob.ack(message.id);
    expect(await alice.next('receipt')).toEqual({ messageId: sent.messageId, status: 'delivered' });
  });

  it('redelivers, in order, what a recipient did not ack before it disconnected', async () => {
    const alice = await json('alice');
    const bob = await json('bob');
    for (let i = 0; i < 5; i++) alice.send(`c-${i}`, 'bob', `m${i}`);
    const first = await bob.all('message', 5);
    bob.ack(first[0]!.id, first[1]!.id);
    await alice.all('sent', 2);
    await bob.close();
    const sent = await alice.all('sent', 5);
    expect(sent.slice(2).map((s) => s.status)).toEqual(['queued', 'queued', 'queued']);
    const again = await json('bob');
    const redelivered = await again.all('message', 3);
    expect(redelivered.map((m) => m.body)).toEqual(['m2', 'm3', 'm4']);
    expect(redelivered.map((m) => m.id)).toEqual(first.slice(2).map((m) => m.id));
  });

  it('treats a resend with the same client id as the same message', async () => {
    const alice = await json('alice');
    alice.send('dup', 'bob', 'once');
    const first = await alice.next('sent');
    alice.send('dup', 'bob', 'once');
    const second = await alice.next('sent');
    expect(second).toEqual(first);
    const bob = await json('bob');
    const message = await bob.next('message');
    bob.ack(message.id);
    await expectSilence(bob.raw, 200);
    expect(bob.of('message')).toHaveLength(1);
    alice.send('dup', 'bob', 'once');
    expect(await alice.next('sent')).toMatchObject({ messageId: first.messageId });
  });

  it('answers a resend made right after the delivery, before its record is committed, as delivered, and delivers nothing twice', async () => {
    const alice = await json('alice');
    const bob = await json('bob');
    alice.send('now', 'bob', 'once only');
    const message = await bob.next('message');
    bob.ack(message.id);
    const first = await alice.next('sent');
    expect(first).toEqual({ id: 'now', messageId: message.id, status: 'delivered' });
    // At once: the `delivered` record waits up to 20 ms for its background commit.
    alice.send('now', 'bob', 'once only');
    alice.send('now', 'bob', 'once only');
    expect(await alice.next('sent')).toEqual(first);
    expect(await alice.next('sent')).toEqual(first);
    await expectSilence(bob.raw, 200);
    expect(bob.of('message')).toHaveLength(1);
  });

  it('answers ping with pong', async () => {
    const c = await json('alice');
    c.emit('ping', {});
    const pong = await c.next('pong');
    expect(Math.abs(pong.ts - Date.now())).toBeLessThan(5_000);
  });

  it.each([
    ['not JSON', 'hello|world', 'BAD_FRAME', undefined],
    ['an array', '[1,2]', 'BAD_FRAME', undefined],
    ['no event', '{"data":{}}', 'BAD_FRAME', undefined],
    ['data of the wrong type', '{"event":"send","data":"x"}', 'BAD_FRAME', undefined],
    ['a send without a body', '{"event":"send","data":{"id":"c1","to":"bob"}}', 'BAD_FRAME', 'c1'],
    ['a send with a numeric body', '{"event":"send","data":{"id":"c1","to":"bob","body":5}}', 'BAD_FRAME', 'c1'],
    [
      'a client id of 65 characters',
      `{"event":"send","data":{"id":"${'i'.repeat(65)}","to":"bob","body":""}}`,
      'BAD_FRAME',
      undefined,
    ],
    ['an invalid recipient', '{"event":"send","data":{"id":"c1","to":"a|b","body":"x"}}', 'BAD_RECIPIENT', 'c1'],
    ['an unknown event', '{"event":"subscribe","data":{}}', 'UNKNOWN_EVENT', undefined],
    ['an ack without ids', '{"event":"ack","data":{}}', 'BAD_FRAME', undefined],
    [
      'an ack with 2,000 ids',
      JSON.stringify({ event: 'ack', data: { ids: Array(2_000).fill('x') } }),
      'TOO_LARGE',
      undefined,
    ],
  ])('answers %s with error %s and stays open', async (_, frame, code, id) => {
    const c = await json('alice');
    c.raw.send(frame);
    const error = await c.next('error');
    expect(error.code).toBe(code);
    expect(typeof error.message).toBe('string');
    expect(error.id).toBe(id);
    c.emit('ping', {});
    await c.next('pong');
  });

  it('answers a frame over MAX_PAYLOAD_BYTES with TOO_LARGE naming the message, and stays open', async () => {
    const c = await json('alice');
    c.send('big', 'bob', 'x'.repeat(70_000));
    expect(await c.next('error')).toMatchObject({ code: 'TOO_LARGE', id: 'big' });
    c.emit('ping', {});
    await c.next('pong');
  });

  it('interoperates with plain-text clients both ways', async () => {
    const alice = await json('alice');
    const bob = await text('bob');
    alice.send('c-1', 'bob', 'to a plain client');
    expect(await bob.next()).toBe('to a plain client');
    // Written to a plain-text socket is as delivered as plain text gets.
    expect(await alice.next('sent')).toMatchObject({ id: 'c-1', status: 'delivered' });
    bob.send('alice|from a plain client');
    expect(await alice.next('message')).toMatchObject({ from: 'bob', to: 'alice', body: 'from a plain client' });
  });

  it('keeps at most MAX_INFLIGHT_PER_CONNECTION unacked and sends more as acks arrive', async () => {
    const alice = await text('alice');
    for (let i = 0; i < 600; i++) alice.send(`bob|${i}`);
    await eventually("600 messages in bob's inbox", async () => expect(await inboxSize(gw, 'bob')).toBe(600));
    const bob = await json('bob');
    const firstWindow = await bob.all('message', 256);
    await expectSilence(bob.raw, 200);
    expect(firstWindow).toHaveLength(256);
    bob.ack(...firstWindow.map((m) => m.id));
    const all = await bob.all('message', 512);
    expect(all.map((m) => m.body)).toEqual(Array.from({ length: 512 }, (_, i) => String(i)));
  });
});
