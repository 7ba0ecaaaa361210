import { describe, expect, it } from 'vitest';
import type { DeliveryStatus, SendListener } from '../messages/send-listener.js';
import { IdempotencyWindow } from './idempotency-window.js';

/** A sender's connection: records what it was told. */
function listener(): SendListener & { heard: string[] } {
  const heard: string[] = [];
  return {
    heard,
    confirm: (clientId, messageId, status) => void heard.push(`${clientId} ${messageId} ${status}`),
    fail: (clientId, failure) => void heard.push(`${clientId} ${failure}`),
  };
}

function setup() {
  const stored = new Map<string, DeliveryStatus>();
  let pendingRead: ((found: DeliveryStatus | undefined) => void) | undefined;
  let holdReads = false;
  /** Pairs the store's filter says it may have a record of; `undefined`: every pair. */
  let filter: Set<string> | undefined;
  let reads = 0;
  /** Pairs whose delivered record is on its way to the store. */
  const recording = new Set<string>();
  const live = new Map<string, SendListener>();
  const window = new IdempotencyWindow(
    {
      mayHaveSent: (sender, clientId) => filter === undefined || filter.has(`${sender}/${clientId}`),
      isRecordingDelivered: (sender, clientId) => recording.has(`${sender}/${clientId}`),
      findSent: (sender, clientId) => {
        reads++;
        const found = stored.get(`${sender}/${clientId}`);
        if (!holdReads) return Promise.resolve(found === undefined ? undefined : { status: found });
        return new Promise((resolve) => {
          pendingRead = (status) => resolve(status === undefined ? undefined : { status });
        });
      },
    },
    {
      reattach: (id, l) => {
        if (!live.has(id)) return false;
        live.set(id, l);
        return true;
      },
    },
  );
  return {
    window,
    stored,
    recording,
    live,
    holdReads: () => {
      holdReads = true;
    },
    finishRead: (status?: DeliveryStatus) => pendingRead!(status),
    filterTo: (pairs: string[]) => {
      filter = new Set(pairs);
    },
    reads: () => reads,
  };
}

describe('IdempotencyWindow', () => {
  it('admits a message it has never seen', async () => {
    const { window } = setup();
    const alice = listener();
    expect(await window.admit('alice', 'c1', 'm1', alice)).toBe(true);
    expect(alice.heard).toEqual([]);
  });

  it('admits a client id the store certainly has no record of at once, without reading the store', () => {
    const { window, stored, filterTo, reads } = setup();
    stored.set('alice/c2', 'queued');
    filterTo(['alice/c2']);
    expect(window.admit('alice', 'c1', 'm1', listener())).toBe(true);
    expect(reads()).toBe(0);
    const resend = listener();
    const answer = window.admit('alice', 'c2', 'm2', resend);
    expect(answer).toBeInstanceOf(Promise);
    return expect(answer).resolves.toBe(false);
  });

  it('points a resend at its live copy even when the store certainly has no record of it', () => {
    const { window, live, filterTo, reads } = setup();
    filterTo([]);
    const first = listener();
    live.set('m1', first);
    const resend = listener();
    // Answered at once, no promise: the live copy will answer the resend when it settles.
    expect(window.admit('alice', 'c1', 'm1', resend)).toBe(false);
    expect(live.get('m1')).toBe(resend);
    expect(window.admit('alice', 'c2', 'm2', listener())).toBe(true);
    expect(reads()).toBe(0);
  });

  it('answers a resend of an answered message from the store, and does not admit it', async () => {
    const { window, stored } = setup();
    stored.set('alice/c1', 'queued');
    const alice = listener();
    expect(await window.admit('alice', 'c1', 'm1', alice)).toBe(false);
    expect(alice.heard).toEqual(['c1 m1 queued']);
  });

  it('runs onQueuedRecord for a resend of a queued message before the answer settles, and only for queued', async () => {
    const { window, stored } = setup();
    stored.set('alice/c1', 'queued');
    stored.set('alice/c2', 'delivered');
    const order: string[] = [];
    const admitted = (
      window.admit('alice', 'c1', 'm1', listener(), () => order.push('send on')) as Promise<boolean>
    ).then((isNew) => order.push(`admitted ${isNew}`));
    await admitted;
    expect(order).toEqual(['send on', 'admitted false']);
    const delivered = listener();
    expect(await window.admit('alice', 'c2', 'm2', delivered, () => order.push('send on'))).toBe(false);
    expect(delivered.heard).toEqual(['c2 m2 delivered']);
    expect(order).toHaveLength(2);
  });

  it('lets a resend of a message on its way into the inbox wait for the same answer', async () => {
    const { window } = setup();
    const first = listener();
    const listeners = window.startQueuing('m1', first)!;
    const again = listener();
    expect(await window.admit('alice', 'c1', 'm1', again)).toBe(false);
    expect(listeners).toEqual([first, again]);
    expect(window.startQueuing('m1', listener())).toBeUndefined();
    window.finishQueuing('m1');
    expect(await window.admit('alice', 'c1', 'm1', listener())).toBe(true);
  });

  it('answers delivered while the delivered record is not durable, then leaves it to the store', async () => {
    const { window, stored, recording, reads } = setup();
    recording.add('alice/c1');
    const resend = listener();
    expect(await window.admit('alice', 'c1', 'm1', resend)).toBe(false);
    expect(resend.heard).toEqual(['c1 m1 delivered']);
    // Another pair of the same sender, or the same client id of another sender, is not answered so.
    expect(await window.admit('alice', 'c2', 'm2', listener())).toBe(true);
    expect(await window.admit('bob', 'c1', 'm3', listener())).toBe(true);
    // Committed: the record leaves the write, and the store answers.
    recording.delete('alice/c1');
    stored.set('alice/c1', 'delivered');
    const readsBefore = reads();
    const later = listener();
    expect(await window.admit('alice', 'c1', 'm1', later)).toBe(false);
    expect(later.heard).toEqual(['c1 m1 delivered']);
    expect(reads()).toBe(readsBefore + 1);
  });

  it('points a live, unsettled message at the connection that resent it', async () => {
    const { window, live } = setup();
    const first = listener();
    live.set('m1', first);
    const resend = listener();
    expect(await window.admit('alice', 'c1', 'm1', resend)).toBe(false);
    expect(live.get('m1')).toBe(resend);
  });

  it('catches a first copy that set off while the store was being read', async () => {
    const { window, holdReads, finishRead } = setup();
    holdReads();
    const resend = listener();
    const admitted = window.admit('alice', 'c1', 'm1', resend);
    const first = listener();
    const listeners = window.startQueuing('m1', first)!;
    finishRead(undefined);
    expect(await admitted).toBe(false);
    expect(listeners).toEqual([first, resend]);
  });
});
