import { afterEach, describe, expect, it } from 'vitest';
import type { AppConfig } from '../config/app-config.js';
import { GatewayMetrics } from '../metrics/gateway.metrics.js';
import { MemoryOfflineMessageDriver } from './memory-offline-message.driver.js';
import { BACKGROUND_COMMIT_MS, MAX_BATCH_WRITES, OfflineMessageService } from './offline-message.service.js';
import type { InboxWrite, WriteResult } from './offline-message.store.js';

/** The memory inbox, keeping what each write held and when it came. */
class RecordingStore extends MemoryOfflineMessageDriver {
  readonly writes: Array<{ at: number; append: number; remove: number; sent: number }> = [];
  /** Set: every write waits for it before it is applied, as a commit's fsync would. */
  gate?: Promise<void>;
  override async write(batch: InboxWrite): Promise<WriteResult> {
    this.writes.push({
      at: performance.now(),
      append: [...batch.append].length,
      remove: batch.remove.length,
      sent: [...batch.sent].length,
    });
    await this.gate;
    return super.write(batch);
  }
}

const turns = async (n: number) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

const message = (n: number) => ({
  id: `m${n}`,
  seq: n,
  from: 'alice',
  to: 'bob',
  body: `body ${n}`,
  ts: Date.now(),
  clientId: `c${n}`,
});

describe('OfflineMessageService commits', () => {
  const services: OfflineMessageService[] = [];
  afterEach(async () => {
    for (const service of services.splice(0)) await service.onApplicationShutdown();
  });

  async function setup() {
    const store = new RecordingStore();
    const config = {
      offline: { ttlSeconds: 60 },
      limits: { inboxMaxMessages: 1_000, inboxMaxBytes: 1 << 20 },
    } as unknown as AppConfig;
    const service = new OfflineMessageService(store, new GatewayMetrics(), config);
    await service.onModuleInit();
    services.push(service);
    return { store, service };
  }

  it('commits delivered records and removals of a burst together, in the background, within BACKGROUND_COMMIT_MS', async () => {
    const { store, service } = await setup();
    const started = performance.now();
    const durable = Array.from({ length: 100 }, (_, i) => service.recordSent('alice', `c${i}`, 'delivered'));
    durable.push(service.remove(message(1)));
    await turns(3);
    expect(store.writes).toEqual([]);
    await Promise.all(durable);
    expect(store.writes).toHaveLength(1);
    expect(store.writes[0]).toMatchObject({ append: 0, remove: 1, sent: 100 });
    expect(store.writes[0]!.at - started).toBeGreaterThanOrEqual(BACKGROUND_COMMIT_MS - 2);
    expect(await service.findSent('alice', 'c99')).toMatchObject({ status: 'delivered' });
  });

  it('says a delivered record is on its way from the request until its commit, and only for that pair', async () => {
    const { store, service } = await setup();
    let open!: () => void;
    store.gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const durable = service.recordSent('alice', 'c1', 'delivered');
    void service.enqueue(message(2));
    // Waiting for its commit, then inside it (the store has not answered).
    expect(service.isRecordingDelivered('alice', 'c1')).toBe(true);
    await turns(3);
    expect(store.writes).toHaveLength(1);
    expect(service.isRecordingDelivered('alice', 'c1')).toBe(true);
    expect(await service.findSent('alice', 'c1')).toBeUndefined();
    // A queued record is not a delivered one; nor is another sender's or another client id's.
    expect(service.isRecordingDelivered('alice', 'c2')).toBe(false);
    expect(service.isRecordingDelivered('bob', 'c1')).toBe(false);
    expect(service.isRecordingDelivered('alice', 'c9')).toBe(false);
    open();
    await durable;
    // Found in the store from the commit on; the write lets the record go right after.
    expect(await service.findSent('alice', 'c1')).toMatchObject({ status: 'delivered' });
    await turns(1);
    expect(service.isRecordingDelivered('alice', 'c1')).toBe(false);
    expect(await service.findSent('alice', 'c1')).toMatchObject({ status: 'delivered' });
  });

  it('commits a message to store in the next turn, and the background writes waiting go with it', async () => {
    const { store, service } = await setup();
    const delivered = service.recordSent('alice', 'c0', 'delivered');
    const stored = service.enqueue(message(1));
    await turns(3);
    expect(store.writes).toEqual([expect.objectContaining({ append: 1, sent: 2 })]);
    await Promise.all([stored, delivered]);
    expect(await service.count('bob')).toBe(1);
  });

  it('commits background writes at once for flushed() and for a count', async () => {
    const { store, service } = await setup();
    void service.recordSent('alice', 'c0', 'delivered');
    await service.flushed();
    expect(store.writes).toHaveLength(1);
    await service.enqueue(message(1));
    void service.remove((await service.peek('bob', 10))[0]!);
    expect(await service.count('bob')).toBe(0);
  });

  it('makes a drain wait for the writes to its user’s inbox only, committed or in flight', async () => {
    const { store, service } = await setup();
    const settled = (recipient: string) => {
      const state = { done: false };
      void service.inboxSettled(recipient).then(() => {
        state.done = true;
      });
      return state;
    };
    void service.recordSent('alice', 'c0', 'delivered');
    void service.remove(message(1));
    // Nothing waits for carol's inbox: no commit is forced for her.
    const carol = settled('carol');
    await turns(2);
    expect(carol.done).toBe(true);
    expect(store.writes).toEqual([]);
    // Bob's removal waits in the background batch: committed at once for his drain.
    let open!: () => void;
    store.gate = new Promise((resolve) => {
      open = resolve;
    });
    const bob = settled('bob');
    await turns(3);
    expect(store.writes).toHaveLength(1);
    expect(bob.done).toBe(false);
    // While that write is in flight, a message stored for dave waits in the next batch.
    void service.enqueue({ ...message(2), to: 'dave' });
    const bobAgain = settled('bob');
    const dave = settled('dave');
    const erin = settled('erin');
    await turns(3);
    expect([bob.done, bobAgain.done, dave.done, erin.done]).toEqual([false, false, false, true]);
    open();
    await turns(6);
    expect([bob.done, bobAgain.done, dave.done]).toEqual([true, true, true]);
    expect(store.writes).toEqual([
      expect.objectContaining({ remove: 1, sent: 1 }),
      expect.objectContaining({ append: 1, sent: 1 }),
    ]);
  });

  it('commits a burst larger than MAX_BATCH_WRITES as several batches, in order, a message always with its record', async () => {
    const { store, service } = await setup();
    let open!: () => void;
    store.gate = new Promise((resolve) => {
      open = resolve;
    });
    // A first message commits alone; the burst comes while that commit waits for its fsync.
    const first = service.enqueue({ ...message(0), to: 'carol' });
    await turns(2);
    expect(store.writes).toHaveLength(1);
    const burst = 2 * MAX_BATCH_WRITES;
    const stored: Array<Promise<void>> = [];
    let delivered: Promise<void> | undefined;
    for (let n = 1; n <= burst; n++) {
      stored.push(service.enqueue({ ...message(n), to: `u${n % 7}` }));
      // A delivered record early in the burst: its batch is full and waits long before its commit.
      if (n === 1_000) delivered = service.recordSent('alice', 'd1', 'delivered');
    }
    expect(service.isRecordingDelivered('alice', 'd1')).toBe(true);
    expect(service.isRecordingDelivered('alice', 'd2')).toBe(false);
    // Each user's drain waits for the last batch that holds a message for that user.
    let u3 = false;
    void service.inboxSettled('u3').then(() => {
      u3 = true;
    });
    await turns(3);
    expect(u3).toBe(false);
    open();
    await Promise.all([first, ...stored, delivered]);
    expect(u3).toBe(true);
    const batches = store.writes.slice(1);
    // Message n and its `queued` record are two writes, never split: the first batch holds half a
    // batch of messages but one, and the delivered record; the next three half a batch each; the
    // last one the message left.
    const half = MAX_BATCH_WRITES / 2;
    expect(batches.map((batch) => [batch.append, batch.sent])).toEqual([
      [half - 1, half],
      [half, half],
      [half, half],
      [half, half],
      [1, 1],
    ]);
    for (const batch of batches) expect(batch.append + batch.sent).toBeLessThanOrEqual(MAX_BATCH_WRITES);
    const peeked = await service.peek('u3', burst);
    expect(peeked.map((m) => m.seq)).toEqual(Array.from({ length: burst }, (_, i) => i + 1).filter((n) => n % 7 === 3));
    expect(await service.findSent('alice', 'd1')).toMatchObject({ status: 'delivered' });
  });
});
