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
  const live = new Map<string, SendListener>();
  const window = new IdempotencyWindow(
    {
      findSent: (sender, clientId) => {
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
    live,
    holdReads: () => {
      holdReads = true;
    },
    finishRead: (status?: DeliveryStatus) => pendingRead!(status),
  };
}

describe('IdempotencyWindow', () => {
  it('admits a message it has never seen', async () => {
    const { window } = setup();
    const alice = listener();
    expect(await window.admit('alice', 'c1', 'm1', alice)).toBe(true);
    expect(alice.heard).toEqual([]);
  });

  it('answers a resend of an answered message from the store, and does not admit it', async () => {
    const { window, stored } = setup();
    stored.set('alice/c1', 'queued');
    const alice = listener();
    expect(await window.admit('alice', 'c1', 'm1', alice)).toBe(false);
    expect(alice.heard).toEqual(['c1 m1 queued']);
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
    const { window, stored } = setup();
    const recorded = window.startRecording('m1');
    const resend = listener();
    expect(await window.admit('alice', 'c1', 'm1', resend)).toBe(false);
    expect(resend.heard).toEqual(['c1 m1 delivered']);
    recorded();
    stored.set('alice/c1', 'delivered');
    const later = listener();
    expect(await window.admit('alice', 'c1', 'm1', later)).toBe(false);
    expect(later.heard).toEqual(['c1 m1 delivered']);
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
