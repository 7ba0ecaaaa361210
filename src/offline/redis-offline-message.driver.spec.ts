import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeOfflineStoreContract } from './offline-message.store.contract.js';
import {
  deleteKeysUnder,
  keysUnder,
  redisAvailable,
  TEST_REDIS_URL,
  testKeyPrefix,
} from '../../test/support/redis-test.js';
import { RedisOfflineMessageDriver } from './redis-offline-message.driver.js';

/** Host and port only: a CI's REDIS_URL may hold a password. */
const REDIS_AT = new URL(TEST_REDIS_URL).host;
/** Long enough to outlive a round trip, short enough to wait out in a unit test. */
const SHORT_TTL_MS = 300;
/** How long a test waits for Redis to expire what it wrote. */
const EXPIRY_WAIT_MS = 5_000;

const available = await redisAvailable(TEST_REDIS_URL);

if (!available) {
  const why = `no Redis at ${REDIS_AT} (start one, or set REDIS_URL; with CI=true this fails)`;
  describe.skip(`RedisOfflineMessageDriver: skipped, ${why}`, () => {
    it('needs Redis', () => undefined);
  });
} else {
  const admin = new Redis(TEST_REDIS_URL, { lazyConnect: true });
  beforeAll(() => admin.connect());
  afterAll(async () => {
    await admin.quit();
  });

  describeOfflineStoreContract(
    'redis',
    async () => {
      const prefix = testKeyPrefix('inbox');
      return {
        store: new RedisOfflineMessageDriver(TEST_REDIS_URL, prefix),
        reopen: async () => new RedisOfflineMessageDriver(TEST_REDIS_URL, prefix),
        openAnother: async () => new RedisOfflineMessageDriver(TEST_REDIS_URL, prefix),
        cleanup: () => deleteKeysUnder(TEST_REDIS_URL, prefix),
      };
    },
    {
      sentRecordsExpireOnTheirOwn:
        'Redis expires each sent record by its own clock (PXAT); a purge neither deletes them at its `now` nor counts them',
      noRecipientList: 'a cluster-wide list of users with messages has no cheap form in Redis',
      noSentList: 'every node of a cluster writes sent records, so no process can list them all',
    },
  );

  describe('RedisOfflineMessageDriver', () => {
    it('leaves no key but maxseq once everything it wrote has expired', async () => {
      const prefix = testKeyPrefix('inbox');
      const store = new RedisOfflineMessageDriver(TEST_REDIS_URL, prefix);
      await store.open();
      try {
        const now = Date.now();
        const expiresAt = now + SHORT_TTL_MS;
        const message = (seq: number, to: string, clientId?: string) => ({
          id: `m${seq}`,
          seq,
          from: 'alice',
          to,
          body: `body ${seq}`,
          ts: now,
          expiresAt,
          clientId,
        });
        await store.write({
          append: [message(1, 'bob', 'c1'), message(2, 'carol', 'c2'), message(3, 'bob')],
          remove: [],
          sent: [
            { sender: 'alice', clientId: 'c1', status: 'queued', expiresAt },
            { sender: 'alice', clientId: 'c2', status: 'queued', expiresAt },
            { sender: 'dave', clientId: 'c9', status: 'delivered', expiresAt },
          ],
        });
        await store.write({ append: [], remove: [{ to: 'bob', seq: 3, id: 'm3' }], sent: [] });
        await store.probe();
        expect(await store.count('bob', now)).toBe(1);
        expect((await keysUnder(admin, prefix)).length).toBeGreaterThan(1);
        // Every key but maxseq and the probe carries an expiry no later than the messages'.
        for (const key of await keysUnder(admin, prefix)) {
          if (key === `${prefix}maxseq` || key === `${prefix}probe`) continue;
          expect(await admin.pexpiretime(key)).toBeLessThanOrEqual(expiresAt);
          expect(await admin.pexpiretime(key)).toBeGreaterThan(0);
        }
        await admin.del(`${prefix}probe`);
        const deadline = Date.now() + EXPIRY_WAIT_MS;
        let left = await keysUnder(admin, prefix);
        while (left.length > 1 && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 50));
          left = await keysUnder(admin, prefix);
        }
        expect(left).toEqual([`${prefix}maxseq`]);
        expect(await store.maxSeq()).toBe(3);
      } finally {
        await store.close();
        await deleteKeysUnder(TEST_REDIS_URL, prefix);
      }
    });

    it('keeps user ids and client ids holding braces, % and glob characters apart', async () => {
      const prefix = testKeyPrefix('inbox');
      const store = new RedisOfflineMessageDriver(TEST_REDIS_URL, prefix);
      await store.open();
      try {
        const expiresAt = Date.now() + 60_000;
        const users = ['x', 'x}:sent:y', 'x%7D', '{x}', '*'];
        await store.write({
          append: users.map((to, i) => ({ id: `m${i}`, seq: i + 1, from: 'x', to, body: to, ts: 0, expiresAt })),
          remove: [],
          sent: [{ sender: 'x', clientId: 'y}:in', status: 'queued', expiresAt }],
        });
        for (const to of users) expect((await store.peek(to, Date.now(), 10)).map((m) => m.body)).toEqual([to]);
        expect(await store.findSent('x', 'y}:in', Date.now())).toBeDefined();
        expect(await store.findSent('x}:sent:y', 'in', Date.now())).toBeUndefined();
        // Only inboxes are trimmed: a purge at the messages' expiry finds exactly one per user.
        expect(await store.purgeExpired(expiresAt)).toBe(users.length);
      } finally {
        await store.close();
        await deleteKeysUnder(TEST_REDIS_URL, prefix);
      }
    });

    it('fails to open within seconds on an address nobody answers, naming host and port but never the password', async () => {
      const store = new RedisOfflineMessageDriver('redis://:hunter2@127.0.0.1:1/0', testKeyPrefix('inbox'), 500);
      const error = await store.open().then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(error?.message).toMatch(/^Offline inbox \(OFFLINE_STORE=redis\): Redis at 127\.0\.0\.1:1 \(REDIS_URL\)/);
      expect(error?.message).not.toContain('hunter2');
      expect(store.isHealthy()).toBe(true);
      await store.close();
      expect(store.isHealthy()).toBe(false);
    });
  });
}
