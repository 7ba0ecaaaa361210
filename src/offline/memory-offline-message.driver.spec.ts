import { describe, expect, it } from 'vitest';
import { MemoryOfflineMessageDriver } from './memory-offline-message.driver.js';

const NOW = 1_800_000_000_000;

describe('MemoryOfflineMessageDriver: sent records', () => {
  it('keeps each record whole, status and expiry, in its packed form', async () => {
    const store = new MemoryOfflineMessageDriver();
    await store.write({
      append: [],
      remove: [],
      sent: [
        { sender: 'alice', clientId: 'c1', status: 'queued', expiresAt: NOW + 1_000 },
        { sender: 'alice', clientId: 'c2', status: 'delivered', expiresAt: NOW + 2_001 },
      ],
    });
    expect(await store.findSent('alice', 'c1', NOW)).toEqual({
      sender: 'alice',
      clientId: 'c1',
      status: 'queued',
      expiresAt: NOW + 1_000,
    });
    expect(await store.findSent('alice', 'c2', NOW)).toMatchObject({ status: 'delivered', expiresAt: NOW + 2_001 });
    expect(await store.findSent('alice', 'c2', NOW + 2_001)).toBeUndefined();
  });

  it('never holds more than its bound: past it, the records that expire first go at once, not at the next purge', async () => {
    const store = new MemoryOfflineMessageDriver(3);
    for (let i = 1; i <= 5; i++) {
      await store.write({
        append: [],
        remove: [],
        sent: [{ sender: 'alice', clientId: `c${i}`, status: 'queued', expiresAt: NOW + i }],
      });
    }
    const found = await Promise.all([1, 2, 3, 4, 5].map((i) => store.findSent('alice', `c${i}`, NOW)));
    expect(found.map((record) => record?.clientId)).toEqual([undefined, undefined, 'c3', 'c4', 'c5']);
  });
});
