import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ChildGateway } from './support/child-gateway.js';
import { startGateway, tempDir, type TestGateway } from './support/gateway.js';
import { FAST_RECONNECT, gate, SdkUser, settledWithin, until, type SdkUserOptions } from './support/sdk-user.js';
import { sleep, withTimeout } from './support/ws-client.js';

/**
 * Long enough for a stray redelivery or second copy to show up on loopback. A sleep, not a poll:
 * it proves that nothing more arrives.
 */
const QUIET_MS = 200;
/** A single wait on a child gateway: generous, as a busy CI machine may take seconds to boot one. */
const CHILD_WAIT_MS = 10_000;

describe('client SDK against the gateway', () => {
  const users: SdkUser[] = [];
  const dirs: Array<{ remove(): void }> = [];
  // Runs after each nested block's own afterEach, which closed the users and the gateway.
  afterEach(() => {
    for (const dir of dirs.splice(0)) dir.remove();
  });
  const sqlite = () => {
    const dir = tempDir();
    dirs.push(dir);
    return { OFFLINE_STORE: 'sqlite', SQLITE_PATH: `${dir.path}/offline.db` };
  };
  const sdkOn = async (url: string, user: string, options: SdkUserOptions = {}, timeoutMs?: number) => {
    const sdk = new SdkUser(url, user, { reconnect: FAST_RECONNECT, ...options });
    users.push(sdk);
    return sdk.connect(timeoutMs);
  };

  describe('in process', () => {
    let gw: TestGateway;
    let url: string;
    beforeEach(async () => {
      gw = await startGateway(sqlite());
      url = `ws://127.0.0.1:${gw.port}/ws`;
    });
    afterEach(async () => {
      for (const user of users.splice(0)) user.close();
      await gw.close();
    });
    const sdk = (user: string, options?: SdkUserOptions) => sdkOn(url, user, options);

    it('resolves a send delivered once the online recipient app handled the message', async () => {
      const busy = gate();
      const bob = await sdk('bob', { handler: busy.wait });
      const alice = await sdk('alice');
      const sending = alice.send('bob', 'hello');
      await until(() => bob.seen.length === 1, 'bob handling the message');
      expect(bob.seen[0]).toMatchObject({ from: 'alice', to: 'bob', body: 'hello' });
      // The handler has not returned, so nothing is acked and the sender is still waiting.
      expect(await settledWithin(sending, QUIET_MS)).toBe('pending');
      busy.open();
      expect(await withTimeout(sending, 'send delivered')).toBe('delivered');
      expect(bob.bodies()).toEqual(['hello']);
      expect(alice.receipts).toEqual([]);
    });

    it('resolves a send queued for an offline recipient, then emits a receipt once it is delivered', async () => {
      const alice = await sdk('alice');
      expect(await withTimeout(alice.send('bob', 'later', { id: 'c-later' }), 'send queued')).toBe('queued');
      const bob = await sdk('bob');
      await until(() => bob.handled.length === 1, 'bob handling the queued message');
      expect(bob.handled[0]).toMatchObject({ from: 'alice', to: 'bob', body: 'later' });
      await until(() => alice.receipts.length === 1, 'receipt at alice');
      expect(alice.receipts[0]).toEqual({ messageId: bob.handled[0]!.id, status: 'delivered', id: 'c-later' });
    });

    it('redelivers to the next app instance what a handler that never finished left unacked, each once', async () => {
      const stuck = await sdk('bob', { handler: () => new Promise<void>(() => {}) });
      const alice = await sdk('alice');
      const sends = ['m0', 'm1', 'm2'].map((body) => alice.send('bob', body));
      await until(() => stuck.seen.length === 1 && stuck.wireMessages === 3, 'three messages at the stuck app');
      expect(await settledWithin(Promise.race(sends), QUIET_MS)).toBe('pending');
      stuck.close();
      // Unacked when the connection closed: back into bob's inbox, which confirms them to alice.
      expect(await withTimeout(Promise.all(sends), 'sends queued')).toEqual(['queued', 'queued', 'queued']);
      const bob = await sdk('bob');
      await until(() => bob.handled.length === 3, 'three messages at the new app instance');
      await until(() => alice.receipts.length === 3, 'three receipts');
      await sleep(QUIET_MS);
      expect(bob.bodies()).toEqual(['m0', 'm1', 'm2']);
      expect(stuck.handled).toEqual([]);
    });

    it('hands each message to the app once when it disconnects mid-handler and reconnects', async () => {
      const busy = gate();
      const bob = await sdk('bob', { handler: (m) => (m.body === 'm0' ? busy.wait() : undefined) });
      const alice = await sdk('alice');
      const sends = ['m0', 'm1', 'm2'].map((body) => alice.send('bob', body));
      await until(() => bob.seen.length === 1 && bob.wireMessages === 3, 'three messages at bob');
      bob.close();
      expect(await withTimeout(Promise.all(sends), 'sends queued')).toEqual(['queued', 'queued', 'queued']);
      await bob.connect();
      // The inbox hands all three over again while m0's first copy is still in the handler.
      await until(() => bob.wireMessages === 6, 'the redelivery');
      busy.open();
      await until(() => bob.handled.length === 3, 'bob handling all three');
      await until(() => alice.receipts.length === 3, 'three receipts');
      await sleep(QUIET_MS);
      expect(bob.seen.map((m) => m.body)).toEqual(['m0', 'm1', 'm2']);
      expect(bob.bodies()).toEqual(['m0', 'm1', 'm2']);
    });

    it('hands messages that waited for a listener over after close() and connect(), each once', async () => {
      const bob = await sdk('bob', { handler: false });
      const alice = await sdk('alice');
      const sends = ['m0', 'm1'].map((body) => alice.send('bob', body));
      await until(() => bob.wireMessages === 2, 'two messages at bob');
      bob.close();
      expect(await withTimeout(Promise.all(sends), 'sends queued')).toEqual(['queued', 'queued']);
      bob.listen();
      await bob.connect();
      await until(() => bob.handled.length === 2, 'bob handling both');
      await sleep(QUIET_MS);
      expect(bob.bodies()).toEqual(['m0', 'm1']);
    });

    it('does not duplicate a resend with the same client id', async () => {
      const bob = await sdk('bob');
      const alice = await sdk('alice');
      const first = alice.send('bob', 'once', { id: 'c-1' });
      expect(alice.client.send('bob', 'once', { id: 'c-1' })).toBe(first);
      expect(await withTimeout(first, 'first send')).toBe('delivered');
      // Confirmed sends leave the outbox: these go to the gateway, which knows the id.
      expect(await withTimeout(alice.send('bob', 'once', { id: 'c-1' }), 'resend')).toBe('delivered');
      const reloaded = await sdk('alice');
      expect(await withTimeout(reloaded.send('bob', 'once', { id: 'c-1' }), 'resend from another instance')).toBe(
        'delivered',
      );
      await sleep(QUIET_MS);
      expect(bob.bodies()).toEqual(['once']);
    });

    it('does not hand the recipient a second copy of a resend made right after the delivered answer', async () => {
      // The SDK drops such a copy; a plain JSON client, or the recipient's next app instance if the
      // copy lands in its inbox, would not.
      const bob = await sdk('bob');
      const alice = await sdk('alice');
      expect(await withTimeout(alice.send('bob', 'once', { id: 'c-1' }), 'first send')).toBe('delivered');
      expect(await withTimeout(alice.send('bob', 'once', { id: 'c-1' }), 'resend')).toBe('delivered');
      await sleep(QUIET_MS);
      expect(bob.wireMessages).toBe(1);
    });

    it('does not duplicate a resend with the same client id to an offline recipient', async () => {
      const alice = await sdk('alice');
      expect(await withTimeout(alice.send('bob', 'once', { id: 'c-1' }), 'send')).toBe('queued');
      expect(await withTimeout(alice.send('bob', 'once', { id: 'c-1' }), 'resend')).toBe('queued');
      const bob = await sdk('bob');
      await until(() => bob.handled.length === 1, 'bob handling the message');
      await sleep(QUIET_MS);
      expect(bob.bodies()).toEqual(['once']);
      expect(bob.wireMessages).toBe(1);
    });

    it('rejects a send to an invalid user id with BAD_RECIPIENT and keeps working', async () => {
      const alice = await sdk('alice');
      await expect(withTimeout(alice.send('bad|user', 'x', { id: 'c-bad' }), 'rejection')).rejects.toMatchObject({
        code: 'BAD_RECIPIENT',
        id: 'c-bad',
      });
      await expect(withTimeout(alice.send(' padded', 'x'), 'rejection')).rejects.toMatchObject({
        code: 'BAD_RECIPIENT',
      });
      expect(await withTimeout(alice.send('bob', 'fine'), 'a valid send')).toBe('queued');
      // The refusals settled their sends; none of them is reported a second time as an error event.
      expect(alice.errors.map((e) => e.code)).not.toContain('BAD_RECIPIENT');
      expect(alice.client.state).toBe('open');
    });
  });

  describe('with the gateway process restarted', () => {
    let gateway: ChildGateway | undefined;
    afterEach(async () => {
      for (const user of users.splice(0)) user.close();
      await gateway?.stop('SIGKILL');
      gateway = undefined;
    });

    it('confirms sends made while the gateway was down once it is back on the same port and data', async () => {
      const env = { ...sqlite(), LOG_LEVEL: 'warn' };
      gateway = await ChildGateway.start(env);
      const { port } = gateway;
      const url = `ws://127.0.0.1:${port}/ws`;
      const bob = await sdkOn(url, 'bob', {}, CHILD_WAIT_MS);
      const alice = await sdkOn(url, 'alice', {}, CHILD_WAIT_MS);
      expect(await withTimeout(alice.send('bob', 'before'), 'send before the kill', CHILD_WAIT_MS)).toBe('delivered');

      await gateway.stop('SIGKILL');
      await until(() => alice.client.state === 'reconnecting', 'alice noticing the dead gateway', CHILD_WAIT_MS);
      const sends = [0, 1, 2, 3, 4].map((i) => alice.send('bob', `while down ${i}`));
      expect(await settledWithin(Promise.race(sends), QUIET_MS)).toBe('pending');

      gateway = await ChildGateway.start(env, port);
      const statuses = await withTimeout(Promise.all(sends), 'sends confirmed after the restart', CHILD_WAIT_MS);
      for (const status of statuses) expect(['delivered', 'queued']).toContain(status);
      await until(() => bob.handled.length === 6, 'bob handling every message', CHILD_WAIT_MS);
      await sleep(QUIET_MS);
      expect(bob.bodies()).toEqual(['before', ...[0, 1, 2, 3, 4].map((i) => `while down ${i}`)]);
      expect(alice.opens).toBeGreaterThanOrEqual(2);
      expect(bob.opens).toBeGreaterThanOrEqual(2);
    }, 60_000);
  });
});
