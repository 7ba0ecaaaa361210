import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from './support/gateway.js';
import { expectSilence, TestClient } from './support/ws-client.js';

describe('plain-text routing (seed protocol)', () => {
  let gw: TestGateway;
  const clients: TestClient[] = [];
  const open = async (user: string) => {
    const c = await TestClient.open(gw.wsUrl(user));
    clients.push(c);
    return c;
  };

  beforeEach(async () => {
    gw = await startGateway();
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await gw.close();
  });

  it('delivers to|content as content to the recipient, and nothing back to the sender', async () => {
    const alice = await open('alice');
    const bob = await open('bob');
    alice.send('bob|hello bob');
    expect(await bob.next()).toBe('hello bob');
    await expectSilence(alice);
  });

  it('splits on the first | only and trims the recipient', async () => {
    const alice = await open('alice');
    const bob = await open('bob');
    alice.send('bob|a|b');
    alice.send('  bob  |  spaced  ');
    expect(await bob.next()).toBe('a|b');
    expect(await bob.next()).toBe('  spaced  ');
  });

  it('sends a frame without | to the last recipient, and drops it when there is none', async () => {
    const alice = await open('alice');
    const bob = await open('bob');
    const carol = await open('carol');
    alice.send('no recipient yet');
    await expectSilence(bob);
    alice.send('bob|first');
    alice.send('second');
    alice.send('|third');
    expect(await bob.next()).toBe('first');
    expect(await bob.next()).toBe('second');
    expect(await bob.next()).toBe('third');
    alice.send('carol|to carol');
    alice.send('and again');
    expect(await carol.next()).toBe('to carol');
    expect(await carol.next()).toBe('and again');
    await expectSilence(bob);
  });

  it('delivers a 60 KB multi-byte UTF-8 message whole', async () => {
    const alice = await open('alice');
    const bob = await open('bob');
    const body = '消息🙂'.repeat(6_000); // 3 + 3 + 4 bytes, 60,000 bytes
    expect(Buffer.byteLength(body)).toBe(60_000);
    alice.send(`bob|${body}`);
    expect(await bob.next()).toBe(body);
  });

  it('fans a message out to every live connection of the recipient', async () => {
    const alice = await open('alice');
    const phone = await open('bob');
    const laptop = await open('bob');
    alice.send('bob|to both');
    expect(await phone.next()).toBe('to both');
    expect(await laptop.next()).toBe('to both');
  });

  it('keeps per-sender order under a burst', async () => {
    const alice = await open('alice');
    const bob = await open('bob');
    for (let i = 0; i < 2_000; i++) alice.send(`bob|${i}`);
    const got = await bob.waitFor(2_000);
    expect(got).toEqual(Array.from({ length: 2_000 }, (_, i) => String(i)));
  });

  it('drops a frame whose recipient is not a valid user id and keeps the connection', async () => {
    const alice = await open('alice');
    const bob = await open('bob');
    alice.send('bad\u0001id|x');
    alice.send('bob|still here');
    expect(await bob.next()).toBe('still here');
  });
});

describe('SESSION_POLICY=replace', () => {
  it('closes the older connection with 4001 "replaced" and delivers to the newer one', async () => {
    const gw = await startGateway({ SESSION_POLICY: 'replace' });
    try {
      const alice = await TestClient.open(gw.wsUrl('alice'));
      const old = await TestClient.open(gw.wsUrl('bob'));
      const fresh = await TestClient.open(gw.wsUrl('bob'));
      expect(await old.closed()).toEqual({ code: 4001, reason: 'replaced' });
      alice.send('bob|only the new one');
      expect(await fresh.next()).toBe('only the new one');
      expect(old.received).toEqual([]);
      await alice.close();
      await fresh.close();
    } finally {
      await gw.close();
    }
  });
});
